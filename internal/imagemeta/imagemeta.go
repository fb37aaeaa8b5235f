// Package imagemeta holds what envkit writes into the images it builds and
// reads back from them: the config labels and the history comments that
// tell which layer holds what. The builder (llb) and the readers
// (registry, envkit inspect) share them so that they cannot drift apart.
package imagemeta

// Labels envkit sets on every image.
const (
	LabelDefinitionHash = "dev.envkit.definition-hash"
	LabelLockHash       = "dev.envkit.lock-hash"
	LabelVersion        = "dev.envkit.version"
)

// History comments of the layers envkit makes.
const (
	// CondaPackageLayer is a layer of linked conda packages (one, or a
	// group beyond the layer budget); its CreatedBy is
	// "envkit link PKG...", each PKG name-version-build.
	CondaPackageLayer = "envkit conda package layer"
	// CondaEnvironment is the finalize layer: post-link scripts, .pyc,
	// conda-meta/history.
	CondaEnvironment = "envkit conda environment"
	// PipPackageLayer is a layer of installed pip wheels.
	PipPackageLayer = "envkit pip package layer"
	// SparkLayer holds the Spark jars and spark-defaults.conf.
	SparkLayer = "envkit Spark layer"
)
