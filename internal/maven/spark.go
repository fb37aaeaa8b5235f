package maven

import (
	"fmt"
	"path"
	"strings"
)

// Where envkit puts Spark's files, relative to the environment prefix.
// The image sets SPARK_CONF_DIR to ConfDir so that spark-submit, pyspark
// and SparkSession.builder all read the spark-defaults.conf written there.
const (
	JarDir  = "share/envkit/spark/jars"
	ConfDir = "share/envkit/spark/conf"
)

// SparkDefaults is the spark-defaults.conf for a resolved package list.
// With precache the pinned jars are in the image (JarDir under prefix) and
// spark.jars lists them, so a session starts without network; without it
// Spark fetches the same coordinates itself at session start
// (spark.jars.packages, over the definition's repositories), as Azure ML
// does when precache_packages is false.
func SparkDefaults(prefix string, jars []Jar, roots []Coordinate, repositories []string, precache bool) string {
	var b strings.Builder
	b.WriteString("# Written by envkit from the definition's spark section.\n")
	if precache {
		paths := make([]string, len(jars))
		for i, j := range jars {
			paths[i] = path.Join(prefix, JarDir, j.Filename())
		}
		fmt.Fprintf(&b, "spark.jars %s\n", strings.Join(paths, ","))
		return b.String()
	}
	coords := make([]string, len(roots))
	for i, c := range roots {
		coords[i] = c.String()
	}
	fmt.Fprintf(&b, "spark.jars.packages %s\n", strings.Join(coords, ","))
	if len(repositories) > 0 {
		fmt.Fprintf(&b, "spark.jars.repositories %s\n", strings.Join(repositories, ","))
	}
	return b.String()
}
