# Sourced by scripts/run and scripts/test: installs the Debian packages the build
# (and, with "window-test", the window test) needs when they are missing and this
# script may (root with apt-get); otherwise says which to install.
#   ALSA headers: the station's sounds play through ALSA (cpal links libasound).
#   Xvfb, xauth, xdotool, ImageMagick: the real-window test and its screenshot.
#   zenity: the file dialog's fallback when no desktop portal runs (the test uses it).
#   faketime: the clock-edge tests run the real binary with the clock frozen.
#   fiu-utils: the I/O fault tests inject failing writes and fsyncs (libfiu).
#   postgresql: the county hub's tests start throwaway clusters with its initdb and pg_ctl.
#   openssl: the hub's TLS test makes a county CA and a certificate with it.
#   chromium, chromium-driver: the county dashboard's test signs in with a real browser.
#   poppler-utils: the PDF reports' tests read them back (pdftotext) and draw them (pdftoppm).
#   libxml2-utils: the event log's XML form is validated against NIST's schema (xmllint).
ensure_packages() {
    local want=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || want+=("$pkg")
    done
    [ ${#want[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing ${want[*]}"
        [ -n "${apt_updated:-}" ] || apt-get update -qq
        apt_updated=yes
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}" >/dev/null
    else
        echo "missing Debian packages; run: sudo apt-get install -y ${want[*]}" >&2
        return 1
    fi
}

build_packages=(pkg-config libasound2-dev)
# faketime (libfaketime): the deadline tests freeze the real clock at 18:59:59.999.
test_packages=(faketime fiu-utils postgresql openssl chromium chromium-driver poppler-utils libxml2-utils lintian desktop-file-utils appstream)
window_test_packages=(xvfb xauth xdotool imagemagick zenity)
