'use strict';
// The HA lease in real Node-RED processes on Debian's Mosquitto (skipped with a reason where it is not installed): test/lib/ha-lease-suite.js.
const { BROKERS, describeHaLease } = require('../lib/ha-lease-suite');

describeHaLease(BROKERS.mosquitto);
