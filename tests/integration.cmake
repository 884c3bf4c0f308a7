# Tests of the analyst-facing pieces: the Python module, the HTML report in headless Chromium, the
# README's commands, and the installed tree. Python tests run with the interpreter found at
# configure time (Debian's /usr/bin/python3).
if(NOT Python3_Interpreter_FOUND)
  return()
endif()
set(podperf_test_env "PODPERF_BINARY=$<TARGET_FILE:podperf>" "PODPERF_SOURCE=${CMAKE_SOURCE_DIR}"
    "PODPERF_BUILD=${CMAKE_BINARY_DIR}" "PYTHONPATH=${CMAKE_BINARY_DIR}/python"
    "PODPERF_PYTHON_MODULE=${PODPERF_PYTHON_MODULE}")
if(PODPERF_PYTHON_MODULE)
  add_test(NAME "python module (import podperf)" COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_module.py)
  set_tests_properties("python module (import podperf)" PROPERTIES ENVIRONMENT "${podperf_test_env}")
  add_test(NAME "python API (signatures, Scenario, Result)" COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_api.py)
  set_tests_properties("python API (signatures, Scenario, Result)" PROPERTIES ENVIRONMENT "${podperf_test_env}")
endif()
# One scenario, one answer: random scenarios through estimate, compare, one-point sweeps and Python.
add_test(NAME "one scenario, one answer (front ends agree)" COMMAND ${Python3_EXECUTABLE}
         ${CMAKE_CURRENT_SOURCE_DIR}/python/test_consistency.py)
set_tests_properties("one scenario, one answer (front ends agree)" PROPERTIES ENVIRONMENT "${podperf_test_env}"
                     TIMEOUT 3600 RUN_SERIAL ON)
# Adversarial values (NaN, +-inf, denormals, empty, INT_MAX, 2^64, negative, huge) for every numeric
# flag of estimate and compare, --set and the numeric sweep axes: one line and exit 2, or finite figures.
add_test(NAME "adversarial flag, --set and axis values" COMMAND ${Python3_EXECUTABLE}
         ${CMAKE_CURRENT_SOURCE_DIR}/python/test_flag_values.py)
set_tests_properties("adversarial flag, --set and axis values" PROPERTIES ENVIRONMENT "${podperf_test_env}" TIMEOUT 3600)
add_test(NAME "report in headless chromium" COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_report.py)
set_tests_properties("report in headless chromium" PROPERTIES ENVIRONMENT
                     "${podperf_test_env};REPORT_OUT=${CMAKE_BINARY_DIR}/report-test" SKIP_RETURN_CODE 77 TIMEOUT 600)
add_test(NAME "README commands run as written" COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_readme.py)
set_tests_properties("README commands run as written" PROPERTIES ENVIRONMENT
                     "${podperf_test_env};README_SCRATCH=${CMAKE_BINARY_DIR}/readme-scratch" TIMEOUT 3000 RUN_SERIAL ON)
add_test(NAME "tutorial commands answer their questions" COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_tutorial.py)
set_tests_properties("tutorial commands answer their questions" PROPERTIES ENVIRONMENT
                     "${podperf_test_env};TUTORIAL_SCRATCH=${CMAKE_BINARY_DIR}/tutorial-scratch" TIMEOUT 3000 RUN_SERIAL ON)
add_test(NAME "cmake --install into an empty prefix" COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh ${CMAKE_BINARY_DIR}
         ${Python3_EXECUTABLE})
