#!/bin/sh
# make-certs.sh OUTDIR [TERMINAL_ID]
# Generates throw-away test certificates for the bureau stand-in:
#   ca.pem/ca.key              test bureau CA
#   server.pem/server.key      server cert, DNS:localhost + IP:127.0.0.1, signed by ca
#   client.pem/client.key      client cert, CN = TERMINAL_ID (default GZ-TEST-0001), signed by ca
#   other-ca.pem/other-ca.key  an unrelated CA (for the wrong-CA test)
#   other-server.pem/.key      server cert for localhost signed by the other CA
#   server.pin                 sha256//BASE64 of server.pem's public key (CURLOPT_PINNEDPUBLICKEY)
#   other-server.pin           same for other-server.pem
# Everything is non-interactive and every file is mode 0600. Test use only.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 OUTDIR [TERMINAL_ID]" >&2
    exit 2
fi
out=$1
tid=${2:-GZ-TEST-0001}
case $tid in
    *[!A-Za-z0-9-]*|'') echo "$0: bad terminal id '$tid'" >&2; exit 2 ;;
esac

umask 077
mkdir -p "$out"
cd "$out"

ossl() { openssl "$@" </dev/null; }

newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# $1 = name, $2 = subject
make_ca() {
    newkey "$1.key"
    ossl req -x509 -new -key "$1.key" -sha256 -days 30 -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.pem"
}

# $1 = name, $2 = subject, $3 = CA name, $4 = extensions file
make_leaf() {
    newkey "$1.key"
    ossl req -new -key "$1.key" -subj "$2" -out "$1.csr"
    ossl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
        -days 30 -sha256 -extfile "$4" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr"
}

pin_of() {
    ossl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der \
        | openssl dgst -sha256 -binary | openssl base64 -A
}

cat > server.ext <<'X'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
X
cat > client.ext <<'X'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
X

make_ca ca "/CN=Test Bureau CA"
make_leaf server "/CN=localhost" ca server.ext
make_leaf client "/CN=$tid" ca client.ext
make_ca other-ca "/CN=Other Untrusted CA"
make_leaf other-server "/CN=localhost" other-ca server.ext
rm -f server.ext client.ext ./*.srl

printf 'sha256//%s\n' "$(pin_of server.pem)" > server.pin
printf 'sha256//%s\n' "$(pin_of other-server.pem)" > other-server.pin
chmod 0600 ./*.pem ./*.key ./*.pin
echo "certificates in $out (terminal id $tid)"
