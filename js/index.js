'use strict';
// polyrtc: the W3C WebRTC API (data channels) for Node, on the native engine.
const { createApi } = require('./lib/factory');
const napiEngine = require('./engine/napi');

module.exports = createApi(napiEngine);
