#!/bin/sh
# Build script of the shop pipeline, as the runner image ships it.
# DEBUG tracing was switched on while chasing a flaky rollout and never switched off.
set -ex
TOKEN=$(cat /etc/ci/deployer-token)
kubectl --server=https://kubernetes.default.svc --token="$TOKEN" -n production \
  patch deployment shop -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"deploy.shop.internal/build\":\"$BUILD_ID\"}}}}}"
