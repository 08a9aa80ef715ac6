# Packaging.cmake: install layout, systemd notification and the Debian package
# (`cpack -G DEB`, driven by scripts/package). Included last by the top-level
# CMakeLists.txt, after every target exists.
#
# Layout with CMAKE_INSTALL_PREFIX=/usr:
#   /usr/bin/sealpost                 RUNPATH $ORIGIN/../lib/sealpost
#   /usr/lib/sealpost/                libsealpost_core.so.0, libsealpost_collector.so.0,
#                                     libsealpost_*_plugin.so (private: no -dev, no ldconfig)
#   /etc/sealpost/sealpost.ini        conffile (packaging/sealpost.ini)
#   /lib/systemd/system/sealpost.service
#   /usr/share/doc/sealpost/          copyright, changelog.Debian.gz, sealpost-*.txt (--help)
#   /usr/share/man/man1/sealpost.1.gz
# `serve` looks for plugins in <binary>/../lib/sealpost when that directory
# exists (an install), else in <binary>/../lib (the build tree).

set(SEALPOST_PKGLIBDIR lib/sealpost)

# --- sd_notify (Type=notify): optional, libsystemd through pkg-config --------
option(SEALPOST_SYSTEMD "Tell systemd when serve is ready (sd_notify), when libsystemd is found" ON)
if(SEALPOST_SYSTEMD)
  pkg_check_modules(LIBSYSTEMD IMPORTED_TARGET libsystemd)
  if(LIBSYSTEMD_FOUND)
    target_link_libraries(sealpost_serve PRIVATE PkgConfig::LIBSYSTEMD)
    target_compile_definitions(sealpost_serve PRIVATE SEALPOST_HAVE_SYSTEMD=1)
  else()
    message(STATUS "libsystemd not found: serve will not call sd_notify (apt-get install libsystemd-dev)")
  endif()
endif()

# --- install rules -------------------------------------------------------------
set_target_properties(sealpost PROPERTIES INSTALL_RPATH "$ORIGIN/../${SEALPOST_PKGLIBDIR}")
install(TARGETS sealpost RUNTIME DESTINATION bin)
install(TARGETS sealpost_core LIBRARY DESTINATION ${SEALPOST_PKGLIBDIR} NAMELINK_SKIP)
if(TARGET sealpost_collector)
  install(TARGETS sealpost_collector LIBRARY DESTINATION ${SEALPOST_PKGLIBDIR} NAMELINK_SKIP)
endif()
if(TARGET sealpost_collector_plugin)
  install(TARGETS sealpost_collector_plugin LIBRARY DESTINATION ${SEALPOST_PKGLIBDIR})
endif()

option(SEALPOST_PACKAGE "Generate the package's documentation and install the service files (scripts/package)" OFF)
if(NOT SEALPOST_PACKAGE)
  return()
endif()

set(pkg ${CMAKE_CURRENT_SOURCE_DIR}/packaging)
install(FILES ${pkg}/sealpost.ini DESTINATION /etc/sealpost PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${pkg}/sealpost.service DESTINATION /lib/systemd/system)

# The --help text of every command, as man-page-style text and as sealpost(1),
# generated from the built binary; the Debian changelog compressed as policy asks.
set(doc_out ${CMAKE_BINARY_DIR}/package-doc)
set(help_commands send show collect certs serve)
set(doc_files ${doc_out}/sealpost.txt ${doc_out}/changelog.Debian.gz)
foreach(c ${help_commands})
  list(APPEND doc_files ${doc_out}/sealpost-${c}.txt)
endforeach()
add_custom_command(
  OUTPUT ${doc_files} ${doc_out}/sealpost.1.gz
  COMMAND ${pkg}/gen-docs.sh $<TARGET_FILE:sealpost> ${doc_out} ${pkg}/debian/changelog ${help_commands}
  DEPENDS sealpost ${pkg}/gen-docs.sh ${pkg}/debian/changelog
  COMMENT "Generating the package documentation from sealpost --help"
  VERBATIM)
add_custom_target(sealpost_package_docs ALL DEPENDS ${doc_files} ${doc_out}/sealpost.1.gz)
install(FILES ${doc_files} ${pkg}/debian/copyright DESTINATION share/doc/sealpost)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/examples/sealpost.ini DESTINATION share/doc/sealpost/examples)
install(FILES ${doc_out}/sealpost.1.gz DESTINATION share/man/man1)

# --- the Debian package ----------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sealpost)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "sealpost maintainers <maintainers@users.noreply.r-seed-1458eb6e.example>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "S/MIME signing and encrypting mail relay with certificate collection")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "sealpost signs and encrypts application mail (statements, invoices,
alerts) with S/MIME and delivers it to an outbox directory, an MTA over
SMTP or a transmissions API. It collects recipients' certificates from the
signed mail they send, so that the next message to them is encrypted.
.
This package contains the sealpost command (send, show, collect, certs,
serve), its private libraries and the collector plugin, and a hardened
systemd service that runs `sealpost serve` as the user sealpost.")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
set(CPACK_DEBIAN_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/sealpost/sealpost")
# Library dependencies come from dpkg-shlibdeps; the private libraries in
# /usr/lib/sealpost are resolved inside the package.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${SEALPOST_PKGLIBDIR} usr/${SEALPOST_PKGLIBDIR})
# adduser: postinst creates the system user. ca-certificates: the collector's
# default trust anchors.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${pkg}/debian/conffiles ${pkg}/debian/postinst ${pkg}/debian/prerm ${pkg}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)
