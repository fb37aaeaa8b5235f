package frontend

import (
	"fmt"
	"strconv"
)

// ArgPackageLayers is the build argument that sets the package layer
// budget (llb.Options.PackageLayers); unset, llb.DefaultPackageLayers.
const ArgPackageLayers = "ENVKIT_PACKAGE_LAYERS"

// packageLayers reads the layer budget from the build arguments: 0 (the
// default budget) when unset, else an integer of at least 1.
func packageLayers(buildArgs map[string]string) (int, error) {
	v, ok := buildArgs[ArgPackageLayers]
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("build argument %s=%q: want the number of conda and pip package layers, an integer of at least 1", ArgPackageLayers, v)
	}
	return n, nil
}
