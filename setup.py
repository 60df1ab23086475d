"""The build step of `pip install .` (pyproject.toml): CMake builds the pybind11 module.

SAMMPA_BUILD_DIR=DIR reuses (and updates) an existing CMake build folder instead of a fresh one under
build-pip/, so that a developer's `pip install .` does not compile the library a second time.
"""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.environ.get("SAMMPA_BUILD_DIR") or os.path.join(ROOT, "build-pip")
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                            "-DSAMMPA_BUILD_TESTS=OFF", "-DSAMMPA_BUILD_BENCH=OFF",
                            f"-DPYTHON_EXECUTABLE={sys.executable}"], check=True)
        jobs = str(os.cpu_count() or 1)
        subprocess.run(["cmake", "--build", build, "--target", "sammpa_python", "-j", jobs], check=True)
        out = os.path.join(build, "python")
        built = [f for f in os.listdir(out) if f.startswith("sammpa") and f.endswith(".so")]
        if len(built) != 1:
            sys.exit(f"setup.py: expected one sammpa*.so in {build}/python, found {built}")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(out, built[0]), target)


# setuptools' own build folder must not be CMake's build/.
setup(ext_modules=[Extension("sammpa", sources=[])], cmdclass={"build_ext": CMakeBuild},
      options={"build": {"build_base": os.path.join("build-pip", "setuptools")}})
