// Command etcd is the stock etcd server: all behaviour lives in etcdmain.
// The wrapper exists only so `go build` can resolve a published module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
