// Wrapper module: builds the etcd server the test control plane stores its objects in.
// Debian's etcd 3.4 has no watch progress notifications, which kube-apiserver's streaming
// lists and the controllers' freshness checks rely on; etcd's own module builds the server.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
