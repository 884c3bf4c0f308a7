# cmake --install build --prefix P: P/bin/podperf finds its data in P/share/podperf (hwdb, configs,
# validation cases); the Python module goes to P/lib/python3/dist-packages/podperf, the man page and
# the bash completion (both generated from the command definitions) to their usual places.
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/podperf.1 ${CMAKE_BINARY_DIR}/podperf.bash-completion
                   COMMAND podperf docs man -o ${CMAKE_BINARY_DIR}/podperf.1
                   COMMAND podperf docs bash-completion -o ${CMAKE_BINARY_DIR}/podperf.bash-completion
                   DEPENDS podperf COMMENT "podperf: man page and bash completion")
add_custom_target(podperf_docs ALL DEPENDS ${CMAKE_BINARY_DIR}/podperf.1 ${CMAKE_BINARY_DIR}/podperf.bash-completion)

install(TARGETS podperf RUNTIME DESTINATION bin)
install(DIRECTORY hwdb/ DESTINATION share/podperf/hwdb)
install(DIRECTORY configs/ DESTINATION share/podperf/configs)
install(DIRECTORY validation/ DESTINATION share/podperf/validation)
install(PROGRAMS scripts/plot_sweep.py DESTINATION share/podperf/scripts)
install(FILES ${CMAKE_BINARY_DIR}/podperf.1 DESTINATION share/man/man1)
install(FILES ${CMAKE_BINARY_DIR}/podperf.bash-completion DESTINATION share/bash-completion/completions RENAME podperf)
if(PODPERF_PYTHON_MODULE)
  install(TARGETS podperf_python LIBRARY DESTINATION lib/python3/dist-packages/podperf)
  install(FILES python/podperf/__init__.py DESTINATION lib/python3/dist-packages/podperf)
endif()
