// irlab-pod-sandbox: runs kwok-controller in a sandbox where every command it
// could execute is a shim, and runs each exec inside the pod's own tree.
// Standard library only, so it builds offline in seconds.
module irlab.dev/engine/podsandbox

go 1.26
