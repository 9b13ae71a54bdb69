# Runs at `cmake --install` time (install(SCRIPT) in CMakeLists.txt, after
# an install(CODE) that sets PINHOLE_*): installs the configs without ever
# replacing one an operator already has, and the systemd units with their
# paths rewritten to this installation's directories.
#
# Relative directories are under the install prefix (which --prefix may
# change at install time); DESTDIR is honoured everywhere.

function(pinhole_abs out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

pinhole_abs(confdir "${PINHOLE_SYSCONFDIR}")
set(confdir "${confdir}/pinhole")
pinhole_abs(sbindir "${PINHOLE_SBINDIR}")
pinhole_abs(unitdir "${PINHOLE_UNITDIR}")

foreach(d proxyd redirectd relayd)
  if(EXISTS "$ENV{DESTDIR}${confdir}/${d}.conf")
    message(STATUS "Kept (exists): $ENV{DESTDIR}${confdir}/${d}.conf")
  else()
    # proxyd.conf names conf/users for `make run`; installed, it is ours.
    file(READ "${PINHOLE_SRC}/conf/${d}.conf" text)
    string(REPLACE "\"conf/users\"" "\"${confdir}/users\"" text "${text}")
    file(WRITE "${PINHOLE_BUILD}/conf/${d}.conf" "${text}")
    file(INSTALL "${PINHOLE_BUILD}/conf/${d}.conf" DESTINATION "${confdir}"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()

  # The units in conf/systemd name the Debian paths; point them here.
  file(READ "${PINHOLE_SRC}/conf/systemd/pinhole-${d}.service" unit)
  string(REPLACE "/usr/sbin/${d}" "${sbindir}/${d}" unit "${unit}")
  string(REPLACE "/etc/pinhole/" "${confdir}/" unit "${unit}")
  set(staged "${PINHOLE_BUILD}/systemd/pinhole-${d}.service")
  file(WRITE "${staged}" "${unit}")
  file(INSTALL "${staged}" DESTINATION "${unitdir}"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endforeach()

# The subscribers' HA1s: not for the world to read.
if(EXISTS "$ENV{DESTDIR}${confdir}/users")
  message(STATUS "Kept (exists): $ENV{DESTDIR}${confdir}/users")
else()
  file(INSTALL "${PINHOLE_SRC}/conf/users" DESTINATION "${confdir}"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
endif()
