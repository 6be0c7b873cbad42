# Sourced by tools/setup.sh and tools/setup-bench.sh:
#   install_missing_packages LABEL PACKAGE...
# installs, from Debian's archive, those of the packages that are not
# installed yet (as root, or through sudo), and says what it did.
install_missing_packages() {
  local label="$1"
  shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "$label: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "$label: all system packages present"
  fi
}
