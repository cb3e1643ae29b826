/* global RED, $ -- the Node-RED editor's globals */
// Twin config nodes in the editor (printfactory-config, durst-subscriber): nodes of one type whose settings and secrets
// are all equal, typically one per imported example. At runtime twins already work (printfactory-config twins share the
// one connection); here the editor offers to merge them: every node that uses a twin is re-pointed to the kept one and
// the twins are removed, as one undoable history event, changing nothing at runtime until the next deploy.
// Served by Node-RED from the package's resources/ folder and loaded by both nodes' editor HTML; loaded twice, set up once.
// Secrets: the editor compares the values it holds itself (imported or typed); for deployed nodes it asks the runtime's
// own admin route POST print-events/<type>/twins (nodes/lib/twins.ts), which answers node ids only.
(function () {
    'use strict';
    if (window.PrintEventsTwins) { return; }
    var PLACEHOLDER = '__PWRD__';
    var watched = {};

    /** A twin set's name, whatever order the editor lists its nodes in. */
    function setKey(nodes) {
        return nodes.map(function (n) { return n.id; }).sort().join(',');
    }

    function text(type, key, vars) {
        return RED._('node-red-contrib-print-events/' + type + ':' + type + '.twins.' + key, vars);
    }

    /** The ids of the last deployed flow (the editor's own record of it). */
    function deployedIds() {
        var ids = {};
        (RED.nodes.originalFlow() || []).forEach(function (n) { ids[n.id] = true; });
        return ids;
    }

    /** Every setting but the name, as the runtime reads it: trimmed, an empty value meaning the default, '30' = 30. */
    function settingsKey(node) {
        var defaults = node._def.defaults || {};
        var key = { z: node.z || '' };
        Object.keys(defaults).sort().forEach(function (prop) {
            if (prop === 'name') { return; }
            var v = node[prop];
            if (v === undefined || v === null || String(v).trim() === '') { v = defaults[prop].value; }
            v = (v === undefined || v === null) ? '' : String(v).trim();
            key[prop] = v !== '' && isFinite(Number(v)) ? String(Number(v)) : v;
        });
        return JSON.stringify(key);
    }

    /** The secrets the editor itself holds for a node; a field it does not hold is left out (the runtime knows it). */
    function localSecrets(node, fields, deployed) {
        var values = {};
        var complete = true;
        fields.forEach(function (field) {
            var v = node.credentials ? node.credentials[field] : undefined;
            if (typeof v === 'string' && v !== PLACEHOLDER) {
                values[field] = v;
            } else if (deployed[node.id]) {
                complete = false;
            } else {
                values[field] = '';  // never deployed and not in the editor: there is none
            }
        });
        return { values: values, complete: complete };
    }

    function fieldsOf(type) {
        return Object.keys(RED.nodes.getType(type).credentials || {});
    }

    /** The config nodes of `type` that could be merged: enabled ones, in the editor's order (oldest first). */
    function candidates(type) {
        var list = [];
        RED.nodes.eachConfig(function (n) { if (n.type === type && !n.d) { list.push(n); } });
        return list;
    }

    /**
     * Groups (2 or more) of twins of `type`, oldest first in each, to `done(groups)`; a runtime that cannot answer
     * leaves the deployed nodes out (never a guess).
     */
    function findTwins(type, done) {
        var bySettings = {};
        candidates(type).forEach(function (n) {
            var key = settingsKey(n);
            (bySettings[key] = bySettings[key] || []).push(n);
        });
        var groups = Object.keys(bySettings).map(function (k) { return bySettings[k]; }).filter(function (g) { return g.length > 1; });
        if (groups.length === 0) { done([]); return; }
        var fields = fieldsOf(type);
        var deployed = deployedIds();
        var entries = [];
        var needsRuntime = false;
        groups.forEach(function (group, index) {
            group.forEach(function (n) {
                var secrets = localSecrets(n, fields, deployed);
                needsRuntime = needsRuntime || !secrets.complete;
                entries.push({ node: n, group: index, secrets: secrets });
            });
        });
        var split = function (sameSecrets) {
            var result = [];
            groups.forEach(function (_group, index) {
                var parts = {};
                entries.forEach(function (e) {
                    if (e.group !== index) { return; }
                    var key = sameSecrets(e);
                    if (key !== null) { (parts[key] = parts[key] || []).push(e.node); }
                });
                Object.keys(parts).forEach(function (k) { if (parts[k].length > 1) { result.push(parts[k]); } });
            });
            done(result);
        };
        if (!needsRuntime) {
            split(function (e) { return JSON.stringify(fields.map(function (f) { return e.secrets.values[f]; })); });
            return;
        }
        $.ajax({
            url: 'print-events/' + type + '/twins',
            type: 'POST',
            contentType: 'application/json',
            data: JSON.stringify({ nodes: entries.map(function (e) { return { id: e.node.id, credentials: e.secrets.values }; }) })
        }).done(function (data) {
            var groupOf = {};
            (data.groups || []).forEach(function (ids, i) { ids.forEach(function (id) { groupOf[id] = String(i); }); });
            split(function (e) { return Object.prototype.hasOwnProperty.call(groupOf, e.node.id) ? groupOf[e.node.id] : null; });
        }).fail(function () {
            // No answer: only the nodes whose secrets the editor holds itself can be compared.
            split(function (e) { return e.secrets.complete ? JSON.stringify(e.secrets.values) : null; });
        });
    }

    /** The properties of `user` that point at config node `id` (a node that uses it otherwise cannot be re-pointed). */
    function pointers(user, id) {
        var defaults = user._def && user._def.defaults ? user._def.defaults : {};
        return Object.keys(defaults).filter(function (prop) { return defaults[prop].type && user[prop] === id; });
    }

    /**
     * Merges each `{ keep, twins }`: re-points the twins' users to `keep` and removes the twins, all as ONE history
     * event (Edit > Undo restores every twin and every pointer). A twin with a user that cannot be re-pointed (e.g. a
     * subflow's env) stays. Returns the merged twins.
     */
    function mergeAll(pairs) {
        var wasDirty = RED.nodes.dirty();
        var events = [];
        var merged = [];
        pairs.forEach(function (pair) {
            var keep = pair.keep;
            // Undoing this merge brings the same set back: no new offer for it.
            if (watched[keep.type]) { watched[keep.type].dismissed[setKey([keep].concat(pair.twins))] = true; }
            pair.twins.forEach(function (twin) {
                if (twin === keep || !RED.nodes.node(twin.id)) { return; }
                var users = (twin.users || []).slice();
                if (users.some(function (u) { return pointers(u, twin.id).length === 0; })) { return; }
                users.forEach(function (user) {
                    var changes = {};
                    pointers(user, twin.id).forEach(function (prop) { changes[prop] = twin.id; user[prop] = keep.id; });
                    // The undo of an 'edit' moves the user back into the twin's `users` and out of keep's.
                    events.push({ t: 'edit', node: user, changes: changes, changed: user.changed, dirty: wasDirty });
                    twin.users.splice(twin.users.indexOf(user), 1);
                    if (keep.users.indexOf(user) === -1) { keep.users.push(user); }
                    user.changed = true;
                    user.dirty = true;
                    RED.editor.validateNode(user);
                    RED.events.emit('nodes:change', user);
                });
                merged.push(twin);
            });
            RED.events.emit('nodes:change', keep);
        });
        if (merged.length === 0) { return merged; }
        merged.forEach(function (twin) { RED.nodes.remove(twin.id); });
        // Undone first (a multi event runs backwards): the twins come back without users, then each edit's undo re-points one.
        events.push({ t: 'delete', nodes: merged, dirty: wasDirty });
        RED.history.push({ t: 'multi', events: events, dirty: wasDirty });
        RED.nodes.dirty(true);
        if (RED.sidebar.config && RED.sidebar.config.refresh) { RED.sidebar.config.refresh(); }
        RED.view.redraw(true);
        return merged;
    }

    function merge(keep, twins) {
        return mergeAll([{ keep: keep, twins: twins }]);
    }

    function label(node) {
        return RED.utils.getNodeLabel(node, node.id);
    }

    /** Labels of `nodes`, each once, with a count where twins share a name ("PrintFactory simulator ×2"). */
    function names(nodes) {
        var counts = {};
        var order = [];
        nodes.forEach(function (n) {
            var l = label(n);
            if (!counts[l]) { counts[l] = 0; order.push(l); }
            counts[l] += 1;
        });
        return order.map(function (l) { return counts[l] > 1 ? l + ' \u00d7' + counts[l] : l; }).join(', ');
    }

    /** In the config dialog of `node`: a notice naming its twins, with a button that merges them into it. */
    function offerInDialog(node, container) {
        var box = $('<div class="form-tips print-events-twins">').hide().appendTo(container);
        findTwins(node.type, function (groups) {
            var group = groups.filter(function (g) { return g.indexOf(RED.nodes.node(node.id)) !== -1; })[0];
            if (!group) { return; }
            var twins = group.filter(function (n) { return n.id !== node.id; });
            var message = $('<span>').text(text(node.type, 'dialog', { count: twins.length, names: names(twins) }));
            var button = $('<button type="button" class="red-ui-button red-ui-button-small" style="margin-left: 8px;">')
                .text(text(node.type, 'merge')).on('click', function (evt) {
                    evt.preventDefault();
                    var done = merge(RED.nodes.node(node.id), twins);
                    box.empty().append($('<i class="fa fa-check">'), ' ', $('<span>').text(text(node.type, 'merged', { count: done.length })));
                });
            box.empty().append($('<i class="fa fa-clone">'), ' ', message, button).show();
        });
        return box;
    }

    /** The twin to keep: a deployed one (its users' runtime state stays), else the oldest. */
    function keeperOf(group) {
        var deployed = deployedIds();
        return group.filter(function (n) { return deployed[n.id]; })[0] || group[0];
    }

    /** After an import that brings twins of `type`: a notification offering to merge them into the oldest. */
    function watchImports(type) {
        if (watched[type]) { return; }
        watched[type] = { timer: null, notification: null, dismissed: {} };
        var state = watched[type];
        RED.events.on('nodes:add', function (n) {
            if (!n || n.type !== type || deployedIds()[n.id]) { return; }
            clearTimeout(state.timer);
            // An import adds many nodes at once: look once it is done.
            state.timer = setTimeout(function () {
                findTwins(type, function (groups) {
                    var open = groups.filter(function (g) { return !state.dismissed[setKey(g)]; });
                    if (state.notification) { state.notification.close(); state.notification = null; }
                    if (open.length === 0) { return; }
                    var count = open.reduce(function (sum, g) { return sum + g.length - 1; }, 0);
                    var into = names(open.map(keeperOf));
                    var note = RED.notify($('<div>').text(text(type, 'notify', { count: count, names: into })), {
                        timeout: 30000,
                        buttons: [
                            { text: text(type, 'notNow'), click: function () {
                                open.forEach(function (g) { state.dismissed[setKey(g)] = true; });
                                note.close();
                            } },
                            { text: text(type, 'merge'), class: 'primary', click: function () {
                                mergeAll(open.map(function (g) { return { keep: keeperOf(g), twins: g }; }));
                                note.close();
                            } }
                        ]
                    });
                    state.notification = note;
                });
            }, 300);
        });
    }

    window.PrintEventsTwins = { findTwins: findTwins, merge: merge, mergeAll: mergeAll, offerInDialog: offerInDialog, watchImports: watchImports, settingsKey: settingsKey };
})();
