#!/usr/bin/env bash
# gen-docs.sh SEALPOST OUT_DIR CHANGELOG COMMAND...: the package's documentation,
# generated at build time from the built binary (cmake/Packaging.cmake):
#   OUT_DIR/sealpost.txt, sealpost-COMMAND.txt  man-page-style text of each --help
#   OUT_DIR/sealpost.1.gz                        sealpost(1): the same, as a man page
#   OUT_DIR/changelog.Debian.gz                  CHANGELOG, gzip -9n (Debian policy 12.7)
set -euo pipefail
bin=$1 out=$2 changelog=$3
shift 3
mkdir -p "$out"
version=$("$bin" --version | awk '{print $2}')
date=$(sed -n 's/^ -- .*>  //p' "$changelog" | sed -n 1p | cut -d' ' -f2-4)
indent() { sed -e 's/^/       /' -e 's/[[:space:]]*$//'; }
# roff: escape backslashes, protect lines that start with . or '
roff_lines() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/" -e 's/-/\\-/g'; }

summary_of() { "$bin" --help | awk -v c="$1" '$1 == c { $1 = ""; sub(/^ +/, ""); print }'; }

page() {  # page NAME TITLE SUMMARY HELP_TEXT
  local name=$1 title=$2 summary=$3 help=$4
  printf '%-30s%-20s%30s\n\n' "$title(1)" "sealpost $version" "$title(1)"
  printf 'NAME\n       %s - %s\n\n' "$name" "$summary"
  printf 'DESCRIPTION\n'
  printf '%s\n' "$help" | indent
  printf '\nFILES\n       /etc/sealpost/sealpost.ini   configuration of sealpost.service\n'
  printf '       /var/lib/sealpost            certificate store and outbox of the service\n'
  printf '       /usr/lib/sealpost            private libraries and plugins\n'
  printf '\nSEE ALSO\n       sealpost(1), /usr/share/doc/sealpost/sealpost-*.txt\n'
}

top_help=$("$bin" --help)
page sealpost SEALPOST "sign, encrypt and relay mail with S/MIME; collect certificates" "$top_help" >"$out/sealpost.txt"
for c in "$@"; do
  page "sealpost $c" "SEALPOST-${c^^}" "$(summary_of "$c")" "$("$bin" "$c" --help)" >"$out/sealpost-$c.txt"
done

{
  echo ".TH SEALPOST 1 \"$date\" \"sealpost $version\" \"User Commands\""
  echo ".SH NAME"
  echo "sealpost \\- sign, encrypt and relay mail with S/MIME; collect certificates"
  echo ".SH SYNOPSIS"
  echo ".B sealpost"
  echo ".I COMMAND"
  echo "[options] ..."
  echo ".SH DESCRIPTION"
  echo ".nf"
  printf '%s\n' "$top_help" | roff_lines
  echo ".fi"
  for c in "$@"; do
    echo ".SH \"SEALPOST ${c^^}\""
    echo ".nf"
    "$bin" "$c" --help | roff_lines
    echo ".fi"
  done
  echo ".SH FILES"
  echo ".TP"
  echo ".I /etc/sealpost/sealpost.ini"
  echo "configuration of sealpost.service (sealpost serve)"
  echo ".TP"
  echo ".I /var/lib/sealpost"
  echo "certificate store and outbox of the service"
  echo ".TP"
  echo ".I /usr/lib/sealpost"
  echo "private libraries and plugins"
  echo ".SH \"SEE ALSO\""
  echo "/usr/share/doc/sealpost/"
} | gzip -9n >"$out/sealpost.1.gz"

gzip -9n -c "$changelog" >"$out/changelog.Debian.gz"
