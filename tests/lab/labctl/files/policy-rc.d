#!/bin/sh
# Debian's invoke-rc.d asks this before starting a service: 101 is "not allowed".  In place while
# packages are installed (the lab tree's, or docker.io on the host) so that no postinst starts a
# daemon with its default settings.
exit 101
