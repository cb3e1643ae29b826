'use strict';
// Pure unit tests of the PrintFactory classifier and the connection's pure helpers.
const assert = require('assert');
const { classify, describe: describeNotification, guidsOf, PRINTFACTORY_EVENTS, isPrintFactoryEvent } = require('../../dist/nodes/lib/printfactory/classify');
const { PRINTFACTORY_EXAMPLES, expectedEvent, EXAMPLE_NAMES, freshExample } = require('../../dist/simulators/printfactory/examples');
const { jsonDeeperThan } = require('../../dist/nodes/lib/printfactory/connection');
const { backoffDelay } = require('../../dist/nodes/lib/backoff');

describe('printfactory classify', function () {
    describe('every documented example', function () {
        for (const name of Object.keys(PRINTFACTORY_EXAMPLES)) {
            it(`${name} -> ${expectedEvent[name]}`, function () {
                assert.strictEqual(classify(PRINTFACTORY_EXAMPLES[name]), expectedEvent[name]);
                // Fresh GUIDs and dates do not change the classification.
                assert.strictEqual(classify(freshExample(name)), expectedEvent[name]);
            });
        }
    });

    it('covers every documented shape and every event name except unknown', function () {
        assert.strictEqual(EXAMPLE_NAMES.length, 14);
        const produced = new Set(Object.values(expectedEvent));
        for (const event of PRINTFACTORY_EVENTS) {
            if (event !== 'unknown') { assert.ok(produced.has(event), `no documented example for ${event}`); }
        }
    });

    it('lets Event decide over Status for a re-route', function () {
        assert.strictEqual(classify({ JobGUID: 'j', Event: 'ReRoute', Status: 'ReRoute' }), 'job.reroute');
        assert.strictEqual(classify({ JobGUID: 'j', Event: 'ReRoute', Status: 'Created' }), 'job.reroute');
    });

    it('treats Event case-insensitively', function () {
        assert.strictEqual(classify({ JobGUID: 'j', Event: 'REPRINT' }), 'job.reprint');
        assert.strictEqual(classify({ JobGUID: 'j', Event: 'resubmit' }), 'job.resubmit');
    });

    it('classifies the nester job by NestComplete or NestGUID, not by its Event "Creation"', function () {
        assert.strictEqual(classify({ JobGUID: 'j', Status: 'NestComplete' }), 'nester.jobCreated');
        assert.strictEqual(classify({ JobGUID: 'j', NestGUID: 'n' }), 'nester.jobCreated');
        // "Creation" without the nest fields is an event the vendor does not document.
        assert.strictEqual(classify({ JobGUID: 'j', Event: 'Creation' }), 'unknown');
    });

    it('classifies Status "Created" without Event as job.created', function () {
        assert.strictEqual(classify({ JobGUID: 'j', Status: 'Created' }), 'job.created');
    });

    it('classifies StatusRIP as job.copyAdded whatever else is there', function () {
        assert.strictEqual(classify({ JobGUID: 'j', StatusRIP: 'Ready', StatusPrint: '' }), 'job.copyAdded');
        assert.strictEqual(classify({ JobGUID: 'j', StatusRIP: '' }), 'job.copyAdded');
    });

    it('classifies any DeviceGUID as device.status, even a minimal one', function () {
        assert.strictEqual(classify({ DeviceGUID: 'd' }), 'device.status');
        assert.strictEqual(classify({ DeviceGUID: 'd', Status: 'Created' }), 'device.status');
    });

    it('a JobGUID with any extra fields is job.updated (the issue #19 shapes)', function () {
        assert.strictEqual(classify({ JobGUID: 'j' }), 'job.updated');
        for (const extra of [{ EventDate: '2026-01-15T10:30:00Z' }, { OrganisationGUID: 'o' }, { Status: 'Printing' },
            { Something: 1, Nested: { a: [1] } }, { Status: '' }, { Event: '' }, { Event: null }, { DeviceGUID: 'd' }]) {
            assert.strictEqual(classify({ JobGUID: 'j', ...extra }), 'job.updated', JSON.stringify(extra));
        }
        assert.strictEqual(classify({ JobGUID: null }), 'unknown');
        assert.strictEqual(classify({ JobGUID: null, Status: 'Created' }), 'unknown');
    });

    it('extra fields never change the event of a documented shape', function () {
        const extras = { EventDate: 'x', OrganisationGUID: 'o', Foo: [1, 2], Bar: { Status: 'Created' } };
        for (const name of EXAMPLE_NAMES) {
            assert.strictEqual(classify({ ...PRINTFACTORY_EXAMPLES[name], ...extras }), expectedEvent[name], name);
        }
    });

    it('matches key names in any case and with or without separators', function () {
        for (const key of ['JobGUID', 'jobGuid', 'jobGUID', 'jobguid', 'JOBGUID', 'job_guid', 'Job-GUID', 'job guid']) {
            assert.strictEqual(classify({ [key]: 'j' }), 'job.updated', key);
            assert.deepStrictEqual(guidsOf({ [key]: 'j' }), { jobGuid: 'j' }, key);
        }
        for (const key of ['DeviceGUID', 'deviceGuid', 'device_guid', 'DEVICEGUID']) {
            assert.strictEqual(classify({ [key]: 'd', status: 'Idle' }), 'device.status', key);
            assert.deepStrictEqual(guidsOf({ [key]: 'd' }), { deviceGuid: 'd' }, key);
        }
        assert.strictEqual(classify({ jobGuid: 'j', status: 'created' }), 'job.created');
        assert.strictEqual(classify({ job_guid: 'j', status_rip: 'Ready' }), 'job.copyAdded');
        assert.strictEqual(classify({ jobGuid: 'j', nestGuid: 'n' }), 'nester.jobCreated');
        assert.strictEqual(classify({ jobguid: 'j', event: 'reprint', eventDate: 'x' }), 'job.reprint');
    });

    it('matches Status and Event values in any case and with or without separators', function () {
        for (const [value, event] of [['Reprint', 'job.reprint'], ['Re-Print', 'job.reprint'], ['reprint', 'job.reprint'], ['RE_PRINT', 'job.reprint'],
            ['ReRoute', 'job.reroute'], ['reroute', 'job.reroute'], ['Re-Route', 'job.reroute'], ['ReSubmit', 'job.resubmit'], ['re submit', 'job.resubmit']]) {
            assert.strictEqual(classify({ JobGUID: 'j', Event: value, EventDate: 'x' }), event, value);
        }
        for (const status of ['Created', 'created', 'CREATED']) { assert.strictEqual(classify({ JobGUID: 'j', Status: status }), 'job.created', status); }
        for (const status of ['NestComplete', 'nestcomplete', 'Nest-Complete', 'NEST_COMPLETE']) {
            assert.strictEqual(classify({ JobGUID: 'j', Status: status, Event: 'Creation' }), 'nester.jobCreated', status);
        }
        assert.strictEqual(classify({ JobGUID: 'j', Status: 'ReRoute' }), 'job.reroute', 'a re-route without its Event field');
    });

    it('a JobGUID with a DeviceGUID is a device status only with a field that only device statuses carry', function () {
        assert.strictEqual(classify({ JobGUID: 'j', DeviceGUID: 'd', Status: 'Created' }), 'job.created');
        assert.strictEqual(classify({ ...PRINTFACTORY_EXAMPLES.deviceStatus, JobGUID: 'j' }), 'device.status');
        assert.strictEqual(classify({ JobGUID: 'j', DeviceGUID: 'd', ConnectionState: 'Online' }), 'device.status');
        assert.deepStrictEqual(guidsOf({ jobGuid: 'j', DeviceGUID: 'd' }), { jobGuid: 'j', deviceGuid: 'd' });
    });

    it('leaves the payload untouched', function () {
        const n = { jobGuid: 'j', Event: 'Re-Print', Extra: { a: 1 } };
        const before = JSON.stringify(n);
        describeNotification(n);
        classify(n);
        assert.strictEqual(JSON.stringify(n), before);
    });

    it('classifies unknown Event values and other shapes as unknown', function () {
        assert.strictEqual(classify({ JobGUID: 'j', Event: 'Archive' }), 'unknown');
        assert.strictEqual(classify({}), 'unknown');
        assert.strictEqual(classify({ Foo: 'bar' }), 'unknown');
    });

    it('classifies non-object JSON as unknown without throwing', function () {
        for (const value of [[{ JobGUID: 'j' }], [], 42, 'text', true, null, undefined]) {
            assert.strictEqual(classify(value), 'unknown');
        }
    });

    it('is not fooled by inherited properties', function () {
        // JSON.parse keeps "__proto__" as an own key; its content is not read as fields of the notification.
        assert.strictEqual(classify(JSON.parse('{"__proto__": {"DeviceGUID": "x"}, "JobGUID": "j"}')), 'job.updated');
        assert.strictEqual(classify(Object.create({ JobGUID: 'j' })), 'unknown');
    });

    it('extracts GUIDs only when they are non-empty strings', function () {
        assert.deepStrictEqual(guidsOf({ JobGUID: 'j', DeviceGUID: 'd' }), { jobGuid: 'j', deviceGuid: 'd' });
        assert.deepStrictEqual(guidsOf({ JobGUID: '' }), {});
        assert.deepStrictEqual(guidsOf({ JobGUID: 5 }), {});
        assert.deepStrictEqual(guidsOf([1]), {});
    });

    it('knows its event names', function () {
        assert.ok(isPrintFactoryEvent('job.created'));
        assert.ok(!isPrintFactoryEvent('job.deleted'));
        assert.ok(!isPrintFactoryEvent(undefined));
    });
});

describe('printfactory connection helpers', function () {
    it('backs off exponentially from the minimum, with jitter, up to the cap', function () {
        const low = () => 0;
        const high = () => 1;
        assert.strictEqual(backoffDelay(1, 1000, 60000, high), 1000);
        assert.strictEqual(backoffDelay(1, 1000, 60000, low), 500);
        assert.strictEqual(backoffDelay(2, 1000, 60000, high), 2000);
        assert.strictEqual(backoffDelay(4, 1000, 60000, high), 8000);
        assert.strictEqual(backoffDelay(7, 1000, 60000, high), 60000);
        assert.strictEqual(backoffDelay(1000, 1000, 60000, high), 60000);
        for (let i = 0; i < 100; i++) {
            const d = backoffDelay(3, 1000, 60000);
            assert.ok(d >= 2000 && d <= 4000, String(d));
        }
    });

    it('measures JSON depth outside strings', function () {
        assert.strictEqual(jsonDeeperThan('{"a":'.repeat(70) + '1' + '}'.repeat(70), 64), true);
        assert.strictEqual(jsonDeeperThan('{"a":'.repeat(60) + '1' + '}'.repeat(60), 64), false);
        const braceString = JSON.stringify({ text: '{'.repeat(500) + '\\"[' });
        assert.strictEqual(jsonDeeperThan(braceString, 64), false);
    });
});
