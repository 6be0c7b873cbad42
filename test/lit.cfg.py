# lit configuration for dlc: every .mlir and .dl test under test/.
import os
import lit.formats

config.name = "dlc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".dl", ".test"]
config.excludes = ["unit", "reference", "Inputs", "lit.cfg.py", "lit.site.cfg.py",
                   "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.dlc_obj_root, "test")

config.environment["PATH"] = os.pathsep.join(
    [config.dlc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%examples", os.path.join(config.dlc_src_root, "examples")))
config.substitutions.append(("%spec_examples",
                             os.path.join(config.dlc_src_root, "..", "shared", "spec", "examples")))
config.substitutions.append(("%python", "python3"))
