#!/usr/bin/env bash
# make_pki.sh OUTDIR -- generate the sealpost test PKI with the openssl CLI.
#
# Produces (all keys are fresh on every generation; nothing is checked in):
#   ca/     root.crt/.key, inter.crt/.key (signed by root), rogue-root.crt/.key,
#           bundle.crt (root only = trusted bundle), chain.crt (inter only)
#   users/  <addr>.crt, <addr>.pem (PKCS#8, 0600), <addr>.p12 (password "test")
#           for the good and the deliberately broken identities listed in main()
#   keys/   signing identities (<addr>.crt, .pem, .chain.pem), dir mode 0700
#   store/  recipient certificate store (<addr>.crt)
#   dkim/   <domain>.key (selector "sel") and keys.txt in OpenDKIM test-key format
#   nss/    NSS databases for bob and carol (skipped if certutil is missing)
#   work/   openssl.cnf, CA databases, CSRs and extension files (scratch)
# OUTDIR/.done is written last; if it exists the script exits immediately.
set -euo pipefail

PROG=${0##*/}
die()  { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

# Run a command quietly; show its output only if it fails.
q() {
    local out
    if ! out=$("$@" 2>&1 </dev/null); then
        printf '%s\n' "$out" >&2
        die "command failed: $*"
    fi
}

# Background jobs: key generation dominates the run time, so independent
# certificates are made in parallel (each CA database is guarded by flock).
JOBS=()
bg() { "$@" & JOBS+=($!); }
wait_all() {
    local pid failed=0
    for pid in "${JOBS[@]}"; do wait "$pid" || failed=1; done
    JOBS=()
    [[ $failed == 0 ]] || die "a background job failed (see above)"
}
# If we die early, do not leave jobs writing into OUTDIR behind us.
trap '[[ ${#JOBS[@]} == 0 ]] || kill "${JOBS[@]}" 2>/dev/null || true' EXIT

# UTC timestamp for openssl ca -startdate/-enddate, e.g. stamp '-1 day'.
stamp() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# ---------------------------------------------------------------- settings --
[[ $# -eq 1 ]] || die "usage: $PROG OUTDIR"
OUT=$1
PASS='test'
ORG="Sealpost Test"
CA_START=20190101000000Z            # CAs cover the "expired" user window too
CA_END=$(stamp '+7300 days')
START=$(stamp '-1 day')             # default user validity
END=$(stamp '+825 days')

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# .done holds this script's hash: a PKI made by another version is made again.
SELF_HASH=$(sha256sum "$0" | cut -c1-64)
up_to_date() { [[ -e $OUT/.done && "$(cat "$OUT/.done")" == "$SELF_HASH" ]]; }
up_to_date && exit 0
# Serialize concurrent invocations (e.g. parallel ctest) on the same OUTDIR.
exec 9>"$OUT/.lock"
flock 9
up_to_date && exit 0
find "$OUT" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +

T0=$(date +%s%N)
W=$OUT/work
rm -rf "$OUT"/{ca,users,keys,store,dkim,nss,work}   # leftovers of a failed run
mkdir -p "$OUT"/{ca,users,store,dkim} "$W"/ext
mkdir -m 700 "$OUT/keys"
umask 077   # keys are born private; certificates are chmod'ed 644 below

# ------------------------------------------------------------ openssl.cnf --
# One CA database per signer, selected with `openssl ca -name`.
write_config() {
    local ca
    {
        printf '[ req ]\ndistinguished_name = req_dn\nprompt = no\n[ req_dn ]\n'
        printf '[ ca ]\ndefault_ca = inter\n'
        for ca in root inter inter-sha1 inter-tls rogue-root self; do
            mkdir -p "$W/db/$ca"
            : >"$W/db/$ca/index.txt"
            printf '[ %s ]\n' "$ca"
            printf 'database = %s\nnew_certs_dir = %s\nserial = %s\n' \
                "$W/db/$ca/index.txt" "$W/db/$ca" "$W/db/$ca/serial"
            printf 'default_md = sha256\npolicy = policy_anything\n'
            printf 'copy_extensions = none\nunique_subject = no\n'
        done
        printf '[ policy_anything ]\n'
        printf '%s = optional\n' countryName stateOrProvinceName localityName \
            organizationName organizationalUnitName emailAddress
        printf 'commonName = supplied\n'
    } >"$W/openssl.cnf"
}

# ---------------------------------------------------------------- helpers --
# genkey FILE rsa|ec [BITS] -- unencrypted PKCS#8 PEM private key.
genkey() {
    case $2 in
        rsa) q openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${3:-2048}" -out "$1" ;;
        ec)  q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
                 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
        eck1) q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 \
                 -pkeyopt ec_param_enc:named_curve -out "$1" ;;
        *)   die "unknown key type $2" ;;
    esac
    chmod 600 "$1"
}

# sign CA KEY SUBJ EXTFILE START END OUT -- make a CSR and let CA issue it.
# The CA signs with $MD (default sha256; sha1 for the weak-algorithm tests).
# CA is root|inter|rogue-root (issued by ca/CA.{crt,key}) or self (self-signed
# by KEY). Each CA database is locked while `openssl ca` updates it.
sign() {
    local ca=$1 key=$2 subj=$3 ext=$4 start=$5 end=$6 out=$7 csr
    csr=$W/$(basename "$out" .crt).csr
    q openssl req -config "$W/openssl.cnf" -new -key "$key" -subj "$subj" -out "$csr"
    local signer=(-cert "$OUT/ca/$ca.crt" -keyfile "$OUT/ca/$ca.key")
    [[ $ca == self ]] && signer=(-selfsign -keyfile "$key")
    q flock "$W/db/$ca/lock" \
        openssl ca -config "$W/openssl.cnf" -name "$ca" "${signer[@]}" \
        -batch -notext -rand_serial -preserveDN -in "$csr" -out "$out" -md "${MD:-sha256}" \
        -extfile "$ext" -extensions ext -startdate "$start" -enddate "$end"
    chmod 644 "$out"
}

# make_ca NAME ISSUER CN EXTRA_EXT [EXTRA_LINE] -- CA key + cert in ca/
# (ISSUER self = root); EXTRA_LINE is one more extension line (an EKU).
make_ca() {
    local name=$1 issuer=$2 cn=$3 extra=$4 ext=$W/ext/$1.cnf
    printf '[ ext ]\n%s\n' ${5:+"$5"} \
        "basicConstraints = critical,CA:true$extra" \
        "keyUsage = critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier = hash" \
        "authorityKeyIdentifier = keyid:always" >"$ext"
    genkey "$OUT/ca/$name.key" rsa
    sign "$issuer" "$OUT/ca/$name.key" "/O=$ORG/CN=$cn" "$ext" \
        "$CA_START" "$CA_END" "$OUT/ca/$name.crt"
}

# issue_user ADDR KEYTYPE KU EKU START END [issuer=inter|rogue-root|self|...]
#            [san=email:OTHER|none] [file=BASENAME] [bits=N] [md=sha1] [ca=true]
#            [eku=none]
# Writes users/BASENAME.{crt,pem,p12} (BASENAME defaults to ADDR).
# san=none drops subjectAltName and puts ADDR in the subject emailAddress.
issue_user() {
    local addr=$1 ktype=$2 ku=$3 eku=$4 start=$5 end=$6; shift 6
    local issuer=inter san=email:$addr base=$addr opt bits=2048 md=sha256 ca=false
    for opt in "$@"; do
        case $opt in
            issuer=*) issuer=${opt#*=} ;;
            san=*)    san=${opt#*=} ;;
            file=*)   base=${opt#*=} ;;
            bits=*)   bits=${opt#*=} ;;
            md=*)     md=${opt#*=} ;;
            ca=*)     ca=${opt#*=} ;;
            *)        die "issue_user: bad option $opt" ;;
        esac
    done
    local f=$OUT/users/$base ext=$W/ext/$base.cnf subj="/O=$ORG/CN=${addr%@*}"
    {
        printf '[ ext ]\n'
        printf '%s\n' "basicConstraints = critical,CA:$ca" \
            "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid"
        [[ $ku == none ]] || printf 'keyUsage = critical,%s\n' "$ku"
        [[ $eku == none ]] || printf 'extendedKeyUsage = %s\n' "$eku"
        if [[ $san == none ]]; then subj+="/emailAddress=$addr"
        else printf 'subjectAltName = %s\n' "$san"; fi
    } >"$ext"

    genkey "$f.pem" "$ktype" "$bits"
    MD=$md sign "$issuer" "$f.pem" "$subj" "$ext" "$start" "$end" "$f.crt"

    local chain=()
    case $issuer in
        inter)      chain=(-certfile "$OUT/ca/chain.crt") ;;
        inter-*)    chain=(-certfile "$OUT/ca/$issuer.crt") ;;
        rogue-root) chain=(-certfile "$OUT/ca/rogue-root.crt") ;;
    esac
    q openssl pkcs12 -export -inkey "$f.pem" -in "$f.crt" "${chain[@]}" \
        -name "$addr" -passout "pass:$PASS" \
        -keypbe AES-256-CBC -certpbe AES-256-CBC -macalg sha256 -out "$f.p12"
}

# dkim_key DOMAIN [BITS] -- dkim/DOMAIN.key and its keys.txt line (in work/).
dkim_key() {
    local key=$OUT/dkim/$1.key pub
    genkey "$key" rsa "${2:-2048}"
    pub=$(openssl pkey -in "$key" -pubout -outform DER | base64 -w0)
    printf 'sel._domainkey.%s v=DKIM1; k=rsa; p=%s\n' "$1" "$pub" >"$W/dkim-$1.txt"
}
# The 512-bit key is optional: some OpenSSL builds/policies refuse it.
weak_dkim_key() {
    (dkim_key weak.example.com 512) 2>/dev/null ||
        warn "openssl refused a 512-bit RSA key; weak.example.com skipped"
}

# nss_db NAME ADDR -- nss/NAME with ADDR's p12 imported and the root trusted.
nss_db() {
    local db=sql:$OUT/nss/$1
    mkdir -p "$OUT/nss/$1"
    q certutil -N -d "$db" --empty-password
    q pk12util -i "$OUT/users/$2.p12" -d "$db" -W "$PASS" -K ''
    q certutil -A -d "$db" -n root -t C,C,C -i "$OUT/ca/root.crt"
}

# ------------------------------------------------------------------- main --
write_config

bg make_ca rogue-root self "Rogue Root CA"                 ""
make_ca    root       self "Sealpost Test Root CA"         ""
make_ca    inter      root "Sealpost Test Intermediate CA" ",pathlen:0"
# Profile tests: an intermediate signed with SHA-1, one limited to serverAuth.
MD=sha1 bg make_ca inter-sha1 root "Sealpost Test SHA-1 Intermediate CA" ",pathlen:0"
bg make_ca inter-tls  root "Sealpost Test TLS-only Intermediate CA" ",pathlen:0" \
    "extendedKeyUsage = serverAuth"
wait_all
cp -p "$OUT/ca/root.crt"  "$OUT/ca/bundle.crt"
cp -p "$OUT/ca/inter.crt" "$OUT/ca/chain.crt"

KEX=digitalSignature,keyEncipherment     # RSA: sign + key transport
KAG=digitalSignature,keyAgreement        # EC:  sign + ECDH
EP=emailProtection
bg issue_user alice@example.com      rsa $KEX $EP "$START" "$END"
bg issue_user bob@example.com        rsa $KEX $EP "$START" "$END"
bg issue_user carol@example.net      rsa $KEX $EP "$START" "$END"
bg issue_user dave@example.org       ec  $KAG $EP "$START" "$END"
bg issue_user erin@example.com       ec  $KAG $EP "$START" "$END"
bg issue_user expired@example.com    rsa $KEX $EP 20200101000000Z 20210101000000Z
bg issue_user notyet@example.com     rsa $KEX $EP 20900101000000Z 20910101000000Z
bg issue_user noprotect@example.com  rsa $KEX serverAuth "$START" "$END"
bg issue_user signonly@example.com   rsa digitalSignature $EP "$START" "$END"
bg issue_user selfsigned@example.com rsa $KEX $EP "$START" "$END" issuer=self
bg issue_user wrongaddr@example.com  rsa $KEX $EP "$START" "$END" san=email:someone-else@example.com
bg issue_user legacy@example.com     rsa $KEX $EP "$START" "$END" san=none
bg issue_user untrusted@example.com  rsa $KEX $EP "$START" "$END" issuer=rogue-root
bg issue_user split@example.com      rsa digitalSignature $EP "$START" "$END" file=split@example.com.sign
bg issue_user split@example.com      rsa keyEncipherment  $EP "$START" "$END" file=split@example.com.enc
bg issue_user bob@example.com        rsa $KEX $EP "$(stamp '-30 days')" "$(stamp '+30 days')" file=bob@example.com.old
# Certificate profile (cert_policy, cert_profile): each breaks one rule.
bg issue_user weak1024@example.com   rsa $KEX $EP "$START" "$END" bits=1024
bg issue_user k1curve@example.com    eck1 $KAG $EP "$START" "$END"
bg issue_user sha1leaf@example.com   rsa $KEX $EP "$START" "$END" md=sha1
bg issue_user sha1inter@example.com  rsa $KEX $EP "$START" "$END" issuer=inter-sha1
bg issue_user tlsinter@example.com   rsa $KEX $EP "$START" "$END" issuer=inter-tls
bg issue_user caleaf@example.com     rsa $KEX $EP "$START" "$END" ca=true
bg issue_user tlsboth@example.com    rsa $KEX "$EP,serverAuth" "$START" "$END"
bg issue_user noeku@example.com      rsa $KEX none "$START" "$END"
bg issue_user noku@example.com       rsa none $EP "$START" "$END"
bg issue_user split@example.com      rsa keyEncipherment  $EP "$START" "$END" file=split@example.com.tlsenc issuer=inter-tls
bg issue_user ecenc@example.com      ec  keyEncipherment,keyAgreement,digitalSignature $EP "$START" "$END"
for d in example.com example.net example.org mail.example.com; do bg dkim_key "$d"; done
bg weak_dkim_key
wait_all

for a in alice@example.com bob@example.com dave@example.org; do
    cp -p "$OUT/users/$a.crt" "$OUT/users/$a.pem" "$OUT/keys/"
    cp -p "$OUT/ca/chain.crt" "$OUT/keys/$a.chain.pem"
done
for a in bob@example.com carol@example.net dave@example.org erin@example.com \
         expired@example.com signonly@example.com; do
    cp -p "$OUT/users/$a.crt" "$OUT/store/"
done

cat "$W"/dkim-*.txt >"$OUT/dkim/keys.txt"
chmod 644 "$OUT/dkim/keys.txt"

if command -v certutil >/dev/null && command -v pk12util >/dev/null; then
    nss_db bob bob@example.com
    nss_db carol carol@example.net
else
    warn "certutil/pk12util not found (package libnss3-tools); skipping nss/"
fi

echo "$SELF_HASH" >"$OUT/.done"
printf '%s: test PKI ready in %s (%d ms)\n' "$PROG" "$OUT" $(( ($(date +%s%N) - T0) / 1000000 ))
