// A CoreDNS with only the plugins a single-node cluster's DNS needs, for tests/node (built by
// `python -m tests.node.build`). CoreDNS's own main imports every plugin (core/plugin); this one imports a few,
// which makes the build several times cheaper, and names them in CoreDNS's own execution order.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The order is a subsequence of core/dnsserver/zdirectives.go at the pinned version: a plugin sees the
// effects of those after it.
var directives = []string{"reload", "ready", "health", "errors", "cache", "kubernetes", "loop"}

func main() {
	dnsserver.Directives = directives
	coremain.Run()
}
