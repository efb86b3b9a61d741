// irlab-kube: kube-apiserver, kube-controller-manager and kube-scheduler in one
// multi-call binary, chosen by the name it is run as (argv[0]'s base name, as
// busybox does). engine/build.sh links the three names to it in the engine
// cache, and kwokctl links those into each cluster's bin/, so every process
// still runs as (and is listed as) its component.
//
// Why: the three share most of Kubernetes, so one link instead of three saves
// build time and ~170 MB of cache, and every control-plane process of every
// cluster maps the same file, so the kernel shares its text pages between
// them (docs/engine.md, "Measured cost").
//
// Each main below is the upstream cmd/<name>/<name>.go of k8s.io/kubernetes,
// blank imports included.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	_ "time/tzdata" // for timeZone support in CronJob

	"github.com/spf13/cobra"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // for JSON log format registration
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // load all the prometheus client-go plugins
	_ "k8s.io/component-base/metrics/prometheus/version"  // for version metric registration
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

var commands = map[string]func() *cobra.Command{
	"kube-apiserver":          func() *cobra.Command { return apiserver.NewAPIServerCommand() },
	"kube-controller-manager": func() *cobra.Command { return controllermanager.NewControllerManagerCommand() },
	"kube-scheduler":          func() *cobra.Command { return scheduler.NewSchedulerCommand() },
}

func main() {
	name := filepath.Base(os.Args[0])
	// `irlab-kube kube-apiserver --version`: the component as the first argument.
	if _, ok := commands[name]; !ok && len(os.Args) > 1 {
		if _, ok := commands[os.Args[1]]; ok {
			name = os.Args[1]
			os.Args = os.Args[1:]
		}
	}
	command, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "irlab-kube: run me as kube-apiserver, kube-controller-manager or kube-scheduler (a link with that name, or that name as the first argument), not %q\n", name)
		os.Exit(2)
	}
	os.Exit(cli.Run(command()))
}
