# `cmake --install build --prefix P` installs the program, the library (its static components), the headers
# under P/include/sammpa/ and a CMake package, so that another project can do
#   find_package(sammpa REQUIRED)   # with -DCMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE sammpa::sammpa)
# (tests/install builds such a project against an installed copy).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SAMMPA_INSTALLED_TARGETS sammpa dnnl_cpu)
foreach(c common io select propagate propagate_feature prompt sam refine eval report pipeline)
  if(TARGET sammpa_${c})
    list(APPEND SAMMPA_INSTALLED_TARGETS sammpa_${c})
  endif()
endforeach()
install(TARGETS ${SAMMPA_INSTALLED_TARGETS} EXPORT sammpaTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sammpa)
install(TARGETS sammpa_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sammpa
        FILES_MATCHING PATTERN "*.h")
install(EXPORT sammpaTargets NAMESPACE sammpa:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sammpa)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sammpaConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/sammpaConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sammpa)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sammpaConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sammpaConfig.cmake ${PROJECT_BINARY_DIR}/sammpaConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sammpa)
