# The runtime's own tests: they link only kilnrt_lib and GoogleTest, so they also build in a
# runtime-only configuration (-DKILN_BUILD_COMPILER=OFF -DKILN_BUILD_RUNTIME_TESTS=ON), which is
# how the sanitizer check (kef_asan) builds them.
find_package(GTest REQUIRED)
include(GoogleTest)

add_executable(kiln_kef_tests
  ${CMAKE_CURRENT_LIST_DIR}/unit/kef_format_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/unit/kef_validation_test.cpp
)
target_link_libraries(kiln_kef_tests PRIVATE kilnrt_lib GTest::gmock GTest::gtest_main)
gtest_discover_tests(kiln_kef_tests DISCOVERY_TIMEOUT 60)
