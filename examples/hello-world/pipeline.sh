#!/bin/sh
# The Hello World pipeline with evident, step by step, as a CI system runs it. `evident demo` does all of
# this (and starts the identity plane) for you; this file is the part to copy into your own CI.
#
# Before: an identity server (`evident server run`) whose trust bundle is in identity-bundle.pem, an agent
# on each runner (`evident agent run --join-token …`), and entries giving spiffe://demo.evident/ci/builder
# to the build runner's workloads and spiffe://demo.evident/ci/scanner to the scan runner's. Each job
# finds its agent through SPIFFE_ENDPOINT_SOCKET (unix:///path/to/api.sock), as any SPIFFE client does.
#
# A step whose command fails stops the pipeline: `evident run` writes its link (the evidence of the
# failure) and then exits with the command's own exit code, which `set -e` acts on. (in-toto-run exits 0
# there; `evident run --ignore-exit-code` does too, for a step allowed to fail.) A -m or -p path that does
# not exist is an error as well (exit 2), unless `--allow-missing`.
set -eu
EVIDENT=${EVIDENT:-evident}
# Every SVID signature gets an RFC 3161 token from the identity server's time-stamping authority
# (`evident server run --tsa-bind`): the layout checks each SVID at that time, so the links verify long
# after their hour-long SVIDs expired.
TSA=${EVIDENT_TIMESTAMP_SERVER:?set EVIDENT_TIMESTAMP_SERVER to the identity server TSA, http://HOST:PORT/tsa}
export SOURCE_DATE_EPOCH=0   # reproducible image: same input, same digest

# 0. Once, by people: the owner's and the developer's keys, and the owner's signed policy.
$EVIDENT keygen keys/owner
$EVIDENT keygen keys/developer
$EVIDENT keygen keys/deployer
$EVIDENT layout create layout.yaml -k keys/owner -o root.layout

# 1. The developer signs off the source, the image description and the vendored library.
$EVIDENT run -n code -k keys/developer -x -p src/hello.c image.yaml vendor

# 2. Build runner (SPIFFE_ENDPOINT_SOCKET = its agent): compile, then package into an OCI image + SBOM.
#    --provenance also writes SLSA provenance for hello (build.<keyid>.provenance.json), signed by the same SVID.
#    The manifest is recorded too: its sha256 is the image digest a registry and a cluster use (hello@sha256:…).
$EVIDENT run -n build --spiffe-socket --timestamp-server "$TSA" --provenance -m src/hello.c -p hello -- cc -o hello src/hello.c
$EVIDENT run -n package --spiffe-socket --timestamp-server "$TSA" -m hello image.yaml vendor \
  -p hello-image.tar hello-image.manifest.json sbom.cdx.json -- \
  evident image build --config image.yaml -o hello-image.tar --sbom sbom.cdx.json --manifest hello-image.manifest.json

# 3. Scan runner (SPIFFE_ENDPOINT_SOCKET = its agent): match the SBOM against the advisory feed, and sign the
#    findings as an in-toto vulnerability attestation about the SBOM, with the same SVID.
$EVIDENT run -n scan --spiffe-socket --timestamp-server "$TSA" --format dsse -m sbom.cdx.json advisories -p scan.vulns.json -- \
  evident scan run sbom.cdx.json --advisories advisories --attest --spiffe-socket --timestamp-server "$TSA" \
  --subject sbom.cdx.json -o scan.vulns.json

# 4. The deployer verifies what was delivered against the owner's policy: signatures and identities,
#    artifact flow, the rules over the attestations (the builder named in the provenance; no scan finding at
#    or above high) and the binary inside the image; and signs a verification summary (SLSA VSA) of it.
#    (`evident demo` uploads each link and attestation to an evidence store and verifies from there:
#    `evident run --store URL`, `evident store push --store URL scan.vulns.json`, `evident verify --store URL
#    --product sha256:<the manifest's sha256>`; then a cluster's gate admits hello@sha256:<that digest>:
#    `evident gate serve --store URL --layout root.layout --layout-key keys/owner.pub --skip-inspections`.)
mkdir -p deliver evidence && cp root.layout hello-image.tar deliver/ && cp *.link *.provenance.json scan.vulns.json evidence/
cd deliver && $EVIDENT verify -l root.layout -k ../keys/owner.pub --link-dir ../evidence \
  --product hello-image.tar --vsa ../hello-image.vsa.json --vsa-key ../keys/deployer
