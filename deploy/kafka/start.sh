#!/usr/bin/env bash
# docker-compose.yml's broker entrypoint (apache/kafka image): fills the secrets into server.properties, formats the
# storage once with the SCRAM users (a KRaft broker with the authorizer on can get its first users only this way,
# as the local harness does with --add-scram), then runs the broker. Secrets come from the environment, never argv
# of a long-lived process, and are written only to files inside the container.
set -euo pipefail
: "${KAFKA_CLUSTER_ID:?required: the cluster id (22 characters of base64url)}"
: "${KAFKA_ADMIN_PASSWORD:?required: the bootstrap admin password}"
: "${KAFKA_CONTROLLER_PASSWORD:?required: the controller listener password}"
props=/tmp/grantline-server.properties
sed -e "s|@ADMIN_PASSWORD@|${KAFKA_ADMIN_PASSWORD}|g" -e "s|@CONTROLLER_PASSWORD@|${KAFKA_CONTROLLER_PASSWORD}|g" \
  /opt/grantline/kafka/server.properties > "$props"
chmod 600 "$props"
scram=(--add-scram "SCRAM-SHA-512=[name=grantline-admin,password=${KAFKA_ADMIN_PASSWORD}]")
# KAFKA_SERVICE_USERS: "<principal>=<password> ..." (one SCRAM user per service principal, e.g. connector:postgres=...)
for user in ${KAFKA_SERVICE_USERS:-}; do
  scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%=*},password=${user#*=}]")
done
# an existing volume keeps its users (--ignore-formatted): change passwords with `grantline kafka acls --apply --users`
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$KAFKA_CLUSTER_ID" --config "$props" "${scram[@]}"
# the healthcheck's admin login
umask 077
cat > /tmp/grantline-admin.properties <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="grantline-admin" password="${KAFKA_ADMIN_PASSWORD}";
PROPERTIES
exec /opt/kafka/bin/kafka-server-start.sh "$props"
