# dr_library(NAME [DEPS ...]): one static library per folder of src/, built from every .cpp in that folder.
# A folder with no .cpp yet becomes an INTERFACE library so the targets that link it still configure.
# Headers are included as "folder/file.h" from src/.
function(dr_library name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(sources)
    add_library(${name} STATIC ${sources})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# dr_test(NAME SOURCES... LIBS ...): a Catch2 v2 test binary whose test cases are registered one by one with CTest.
# Test cases tagged [slow] still run; tag [.] hides a case from the default run.
function(dr_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE dr_catch_main ${ARG_LIBS})
  # Catch2's single header and nlohmann/json cost 4 s of parsing in every test file on this 2-core machine: parsed
  # once per test binary instead (CI's ./run test budget is mostly the build).
  target_precompile_headers(${name} PRIVATE <catch2/catch.hpp> <nlohmann/json.hpp> <fmt/format.h>)
  # From a precompiled header, libstdc++'s inlined string copies are no longer treated as system code, and GCC 12's
  # known false positive (-Warray-bounds on std::string's memcpy at -O2, GCC bug 105329) would fail -Werror.
  target_compile_options(${name} PRIVATE -Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread -Wno-restrict)
  target_compile_definitions(${name} PRIVATE DR_SOURCE_DIR="${PROJECT_SOURCE_DIR}" DR_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(properties TIMEOUT 600)
  if(ARG_LABELS)
    list(APPEND properties LABELS "${ARG_LABELS}")
  endif()
  catch_discover_tests(${name} TEST_PREFIX "${name}: " PROPERTIES ${properties})
endfunction()
