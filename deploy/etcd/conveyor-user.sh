#!/bin/sh
# The etcd user and role for Conveyor on an etcd cluster you run (cluster mode).
# Conveyor keeps everything under one prefix (--etcd-prefix, default /conveyor):
# read models, checkpoints, and the leases of the roles replicas take in turn.
# It needs read and write there and nothing else.
#
#   ETCDCTL_ENDPOINTS=https://etcd-1:2379 ./conveyor-user.sh [PREFIX]
#
# Run it as etcd's root user; it asks for the new user's password. Then start
# the servers with CONVEYOR_CLUSTER_ETCD_USER=conveyor:PASSWORD (or --etcd-user, which
# ps shows). Enable authentication once, after the root user exists:
#   etcdctl user add root && etcdctl user grant-role root root && etcdctl auth enable
set -eu
prefix="${1:-/conveyor}"
etcdctl role add conveyor
etcdctl role grant-permission conveyor readwrite "$prefix/" --prefix=true
etcdctl user add conveyor
etcdctl user grant-role conveyor conveyor
etcdctl role get conveyor
