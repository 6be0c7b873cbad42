"""Compiles every .dl file of the given folders with `dlc compile --emit=ir`
and `dlc summary`, and checks each exits 0 without printing an error or a
warning. Used by compile-all.test; prints one line per file."""
import os
import subprocess
import sys

def main():
    dlc = sys.argv[1]
    failures = 0
    count = 0
    for folder in sys.argv[2:]:
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".dl"):
                continue
            path = os.path.join(folder, name)
            for command in (["compile", path, "--emit=ir"], ["summary", path]):
                proc = subprocess.run([dlc] + command, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, timeout=60)
                count += 1
                ok = (proc.returncode == 0 and not proc.stderr and
                      proc.stdout.strip())
                print("%s: dlc %s %s" % ("ok" if ok else "FAILED", command[0],
                                         path))
                if not ok:
                    failures += 1
                    sys.stdout.write(proc.stderr.decode("utf-8", "replace"))
    print("%d runs, %d failed" % (count, failures))
    return 1 if failures or count == 0 else 0

if __name__ == "__main__":
    sys.exit(main())
