# The bootfs: libcap/src/bootfs.c (cmocka: test_bootfs.c for the archive
# reader, test_bootfs_image.c for other writers' output) and the tools that
# build it, scripts/tools/mkbootfs.py and mkimage.py (test_mkbootfs.py).
# Included from tests/host/CMakeLists.txt after mica_host_test() (and
# MICA_KERNEL_DIR) are defined.
#
# test_bootfs_image reads one image that the
# real tools built here, from a fake 64-byte kernel (an arm64 Image header
# with image_size 8292 and nothing else), so the Python writer and the C
# reader are checked against each other. Its arguments are the image and
# the NAME=PATH pairs that went into it.

# Paths are relative to this file, so it works wherever it is included from.
set(bootfs_here ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(bootfs_tools ${bootfs_here}/../../scripts/tools ABSOLUTE)

mica_host_test(bootfs ${bootfs_here}/test_bootfs.c ../tests/host/bootfs_test_util.c
  ../libcap/src/bootfs.c)
mica_host_test(bootfs_image ${bootfs_here}/test_bootfs_image.c NO_ADD_TEST
  ../tests/host/bootfs_test_util.c ../libcap/src/bootfs.c)

set(bootfs_dir ${CMAKE_CURRENT_BINARY_DIR}/bootfs-fixture)
file(MAKE_DIRECTORY ${bootfs_dir})
file(CONFIGURE OUTPUT ${bootfs_dir}/empty CONTENT "")
file(CONFIGURE OUTPUT ${bootfs_dir}/manifest CONTENT "# bootfs test manifest\nsrv/bootfs.c\n")
set(bootfs_files
  boot/manifest=${bootfs_dir}/manifest
  empty=${bootfs_dir}/empty
  srv/bootfs.c=${PROJECT_SOURCE_DIR}/libcap/src/bootfs.c
  tools/mkbootfs.py=${bootfs_tools}/mkbootfs.py
  data/test_bootfs.c=${bootfs_here}/test_bootfs.c)
set(bootfs_inputs)
foreach(pair ${bootfs_files})
  string(REGEX REPLACE "^[^=]*=" "" path ${pair})
  list(APPEND bootfs_inputs ${path})
endforeach()
set(bootfs_pairs ${bootfs_files})
list(FILTER bootfs_pairs EXCLUDE REGEX "^boot/manifest=")

add_custom_command(OUTPUT ${bootfs_dir}/kernel.bin
  COMMAND python3 -c
    "open(__import__('sys').argv[1], 'wb').write(bytes(16) + (8292).to_bytes(8, 'little') + bytes(32) + b'ARMd' + bytes(4))"
    ${bootfs_dir}/kernel.bin
  VERBATIM)
add_custom_command(OUTPUT ${bootfs_dir}/bootfs.cpio
  COMMAND python3 ${bootfs_tools}/mkbootfs.py --out ${bootfs_dir}/bootfs.cpio
          --manifest ${bootfs_dir}/manifest ${bootfs_pairs}
  DEPENDS ${bootfs_tools}/mkbootfs.py ${bootfs_inputs}
  VERBATIM)
add_custom_command(OUTPUT ${bootfs_dir}/image
  COMMAND python3 ${bootfs_tools}/mkimage.py --kernel ${bootfs_dir}/kernel.bin
          --bootfs ${bootfs_dir}/bootfs.cpio --out ${bootfs_dir}/image
  DEPENDS ${bootfs_tools}/mkimage.py ${bootfs_dir}/kernel.bin ${bootfs_dir}/bootfs.cpio
  VERBATIM)
add_custom_target(bootfs_fixture ALL DEPENDS ${bootfs_dir}/image)

add_test(NAME host.bootfs_image COMMAND test_bootfs_image ${bootfs_dir}/image ${bootfs_files})
add_test(NAME host.mkbootfs COMMAND python3 ${bootfs_here}/test_mkbootfs.py)
