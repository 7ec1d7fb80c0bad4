#!/usr/bin/env bash
# Installs the real programs the tests talk to or check with: postfix and aiosmtpd (Debian's
# python3-aiosmtpd, run with /usr/bin/python3) for test/integration/smtp-peers.test.ts; qpdf and
# poppler-utils (pdftoppm), with which test/integration/scanner.test.ts checks and renders the
# scanner's PDFs. Idempotent: does nothing when all are installed; runs `apt-get update` only when
# something is missing. Installing postfix does not start it here (no systemd); the test runs its
# own loopback-only instance.
set -euo pipefail

missing=()
for pkg in postfix python3-aiosmtpd qpdf poppler-utils; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

echo "install-peers: installing ${missing[*]}" >&2
# postfix's debconf questions: a local-only mailer named after this host, no prompts.
echo "postfix postfix/main_mailer_type select Local only" | "${SUDO[@]}" debconf-set-selections
echo "postfix postfix/mailname string $(hostname -f 2>/dev/null || hostname)" | "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
