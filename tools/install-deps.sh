#!/bin/sh
# Installs the Debian 12 packages Kanyan needs to build, run and test — only those missing.
set -e
PKGS="make gcc pkg-config libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
libgstreamer-plugins-bad1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good
gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-libav gstreamer1.0-tools
libnice-dev libwebsockets-dev libwebsockets-evlib-glib libjson-glib-dev libsqlite3-dev sqlite3
libsodium-dev libsystemd-dev systemd libqrencode-dev libzip-dev libcairo2-dev libpango1.0-dev libgdk-pixbuf-2.0-dev fonts-droid-fallback libavformat-dev libavcodec-dev libavutil-dev libssl-dev ffmpeg
libsoup-3.0-dev python3 python3-aiortc python3-numpy python3-websocket python3-prometheus-client python3-icalendar chromium nftables iproute2 util-linux coturn
clang man-db qrencode poppler-utils firefox-esr vlc-bin vlc-plugin-base
janus"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js may come from another source that bundles npm: ask for the commands, not the packages.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  # janus is the bench's anchor (bench/run.sh --anchor janus starts its own, inside the test
  # namespace): the package's own service would be a media server listening on the machine
  case " $missing " in
    *" janus "*) $SUDO systemctl disable --now janus.service >/dev/null 2>&1 || true ;;
  esac
fi
# Browser-test drivers (playwright-core drives Debian's chromium, puppeteer-core Debian's
# firefox-esr over WebDriver BiDi; neither downloads a browser), and axe-core, the accessibility
# checker the browser tests inject into each page (a devDependency: --include=dev keeps it
# even where NODE_ENV=production is set).
if [ -f tests/package.json ] && { [ ! -d tests/node_modules/playwright-core ] || [ ! -d tests/node_modules/puppeteer-core ] ||
    [ ! -d tests/node_modules/axe-core ]; }; then
  npm install --prefix tests --include=dev --no-audit --no-fund --silent >/dev/null
fi
