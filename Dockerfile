# Airflow 3 with Java 17 (for spark-submit) and this project, pinned like the virtualenv.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends default-jre-headless procps \
    && rm -rf /var/lib/apt/lists/*
# Debian bookworm's default JRE is OpenJDK 17; default-java points at it on every architecture.
ENV JAVA_HOME=/usr/lib/jvm/default-java

USER airflow
COPY --chown=airflow:root requirements.txt /opt/project/requirements.txt
RUN pip install --no-cache-dir -r /opt/project/requirements.txt
COPY --chown=airflow:root . /opt/project
RUN pip install --no-cache-dir --no-deps -e /opt/project
WORKDIR /opt/project
