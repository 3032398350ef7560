#!/bin/sh
# The Hello World pipeline with evident, step by step, as a CI system would run it.
# Each step is wrapped in `evident run`, which records what went in, what came out, and signs it.
set -eu
EVIDENT=${EVIDENT:-evident}

# 0. Once: the people's keys and the signed policy.
$EVIDENT keygen keys/owner
$EVIDENT keygen keys/developer
$EVIDENT keygen -t ecdsa keys/builder
$EVIDENT layout create layout.yaml -k keys/owner -o root.layout

# 1. The developer signs off the source.
$EVIDENT run -n code -k keys/developer -x -p src/hello.c

# 2. The build runner compiles it.
$EVIDENT run -n build -k keys/builder -m src/hello.c -p hello -- cc -o hello src/hello.c

# 3. The build runner packages the binary.
$EVIDENT run -n package -k keys/builder -m hello -p hello.tar -- \
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf hello.tar hello

# 4. The deployer verifies the delivered archive against the owner's policy.
mkdir -p deliver && cp root.layout hello.tar *.link deliver/
cd deliver && $EVIDENT verify -l root.layout -k ../keys/owner.pub
