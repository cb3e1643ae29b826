'use strict';
// The HA lease in real Node-RED processes on Aedes (the 3-minute observation window): test/lib/ha-lease-suite.js.
const { BROKERS, describeHaLease } = require('../lib/ha-lease-suite');

describeHaLease(BROKERS.aedes);
