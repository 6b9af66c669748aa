# The runtime's own unit tests: the integer kernels against their reference loops, and the .kef
# format and loader. They link only the runtime and GoogleTest, so they also build in a
# runtime-only configuration (-DKILN_BUILD_COMPILER=OFF -DKILN_BUILD_RUNTIME_TESTS=ON).
find_package(GTest REQUIRED)
include(GoogleTest)

add_executable(kiln_runtime_tests
  ${CMAKE_CURRENT_LIST_DIR}/kernels/kernel_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/threads_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/ops_threads_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/depthwise_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/deconv_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/conv_panel_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/gemm_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/pool_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/movement_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kernels/small_ops_match_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/format/kef_format_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/format/kef_validation_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/format/op_table_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/post/nms_test.cpp
)
target_link_libraries(kiln_runtime_tests PRIVATE kilnrt_lib GTest::gmock GTest::gtest_main)
# op_table_test reads docs/file-format.md.
target_compile_definitions(kiln_runtime_tests PRIVATE KILN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/Testing/tmp")  # GoogleTest TempDir(), see tests/CMakeLists.txt
gtest_discover_tests(kiln_runtime_tests DISCOVERY_TIMEOUT 60
  PROPERTIES ENVIRONMENT "TEST_TMPDIR=${CMAKE_BINARY_DIR}/Testing/tmp")
