# Toolchain file: cross-compile Mica for bare-metal AArch64 with clang + lld.
# Used by scripts/build for build/virt and build/raspi3b.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(MICA_TARGET aarch64-none-elf)
find_program(MICA_CLANG NAMES clang clang-14 REQUIRED)
set(CMAKE_C_COMPILER ${MICA_CLANG})
set(CMAKE_ASM_COMPILER ${MICA_CLANG})
set(CMAKE_C_COMPILER_TARGET ${MICA_TARGET})
set(CMAKE_ASM_COMPILER_TARGET ${MICA_TARGET})

find_program(MICA_OBJCOPY NAMES llvm-objcopy llvm-objcopy-14 PATHS /usr/lib/llvm-14/bin REQUIRED)
find_program(MICA_NM NAMES llvm-nm llvm-nm-14 PATHS /usr/lib/llvm-14/bin REQUIRED)

# Bare metal: nothing to link a test executable against during try_compile.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_LINKER_WRAPPER_FLAG "-Wl,")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld -nostdlib -static")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
