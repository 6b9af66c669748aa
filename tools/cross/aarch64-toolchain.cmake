# Cross-compiling Kiln's runtime for 64-bit Arm Linux (Raspberry Pi 4/5, Jetson, i.MX 8, ...)
# with Debian's g++-aarch64-linux-gnu; programs run on the build machine through qemu-user.
#
#   cmake -S . -B build-aarch64 -DKILN_BUILD_COMPILER=OFF \
#         -DCMAKE_TOOLCHAIN_FILE=tools/cross/aarch64-toolchain.cmake
#
# tools/cross/build_aarch64.sh does this (and installs the packages) in one command.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(KILN_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${KILN_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${KILN_CROSS_TRIPLE}-g++)

# Headers and libraries of the target come from the Debian cross packages' sysroot; programs
# (cmake helpers, code generators) from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${KILN_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# try_run, add_test and gtest discovery run target programs under user-mode emulation; -L points
# qemu at the target's dynamic loader and shared libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/${KILN_CROSS_TRIPLE})
