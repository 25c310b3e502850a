"""The driver's JIT by the source's size: C1 alone for a small zip, placed before the deployment's options."""

from pipeline.driver_compiler import C1_ONLY, SMALL_SOURCE_BYTES, with_java_option

DEPLOYMENT = {"spark.driver.extraJavaOptions": "-Dx=1", "spark.sql.shuffle.partitions": "16"}


def sized(path, size):
    with open(path, "wb") as handle:
        handle.truncate(size)  # sparse: no bytes written
    return path


def test_a_small_source_runs_the_driver_with_c1_alone_before_the_deployments_options(tmp_path):
    conf = with_java_option(DEPLOYMENT, sized(tmp_path / "small.zip", SMALL_SOURCE_BYTES))
    assert conf == {
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -Dx=1",
        "spark.sql.shuffle.partitions": "16",
    }
    assert with_java_option({}, str(tmp_path / "small.zip")) == {"spark.driver.extraJavaOptions": C1_ONLY}


def test_a_large_missing_or_unknown_source_keeps_the_default_compilers(tmp_path):
    assert with_java_option(DEPLOYMENT, sized(tmp_path / "large.zip", SMALL_SOURCE_BYTES + 1)) == DEPLOYMENT
    assert with_java_option(DEPLOYMENT, tmp_path / "missing.zip") == DEPLOYMENT
    assert with_java_option(DEPLOYMENT, None) == DEPLOYMENT
    assert with_java_option(DEPLOYMENT, "") == DEPLOYMENT
