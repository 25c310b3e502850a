"""The similarity engine in vectorised numpy: MinHash signatures, the LSH index, exact scoring, top k.

No Spark here: the Spark jobs (``spark_jobs.minhash``, ``spark_jobs.similarity_join``) hand it
Arrow batches in their Python workers, and the tests and benchmarks call it directly.
"""
