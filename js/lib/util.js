// Shared helpers for the W3C layer: WebIDL conversions, DOMException creation, the one
// engine-error mapping table, and HTML event handler attributes.

/** Token that unlocks the constructors the spec makes non-constructible from script. */
const INTERNAL = Symbol('polyrtc.internal');

function domException(name, message) {
  return new DOMException(message || name, name);
}

/**
 * The one table mapping an engine error (its `code`, or the message prefix before ':') to
 * the exception the W3C API throws.
 */
const ENGINE_ERROR_NAMES = new Set([
  'InvalidStateError', 'InvalidAccessError', 'InvalidModificationError', 'SyntaxError',
  'OperationError', 'NotSupportedError', 'InvalidCharacterError', 'NotFoundError',
  'DataError', 'QuotaExceededError', 'NetworkError', 'AbortError',
]);

function mapEngineError(err) {
  if (err instanceof DOMException || err instanceof TypeError || err instanceof RangeError) {
    return err;
  }
  let code = err && typeof err.code === 'string' ? err.code : null;
  let message = err && typeof err.message === 'string' ? err.message : String(err);
  const colon = message.indexOf(':');
  const prefix = colon > 0 ? message.slice(0, colon).trim() : null;
  if (!code && prefix && /^[A-Za-z]+$/.test(prefix)) code = prefix;
  if (prefix && prefix === code) message = message.slice(colon + 1).trim() || code;
  if (code === 'TypeError') return new TypeError(message);
  if (code === 'RangeError') return new RangeError(message);
  if (code && ENGINE_ERROR_NAMES.has(code)) return domException(code, message);
  return domException('OperationError', message);
}

/** Run an engine call and convert what it throws. */
function callEngine(fn) {
  try {
    return fn();
  } catch (err) {
    throw mapEngineError(err);
  }
}

// ---- WebIDL conversions -------------------------------------------------------------

function toDOMString(v) {
  if (typeof v === 'symbol') throw new TypeError('Cannot convert a Symbol to a string');
  return String(v);
}

function toUSVString(v) {
  const s = toDOMString(v);
  if (typeof s.toWellFormed === 'function') return s.toWellFormed();
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function toNumber(v) {
  if (typeof v === 'symbol' || typeof v === 'bigint') {
    throw new TypeError('Cannot convert value to a number');
  }
  return Number(v);
}

/** [EnforceRange] integer conversion (unsigned short, octet, unsigned long ...). */
function enforceRange(v, min, max, what) {
  const n = toNumber(v);
  if (!Number.isFinite(n)) throw new TypeError(`${what} is not a finite number`);
  const t = Math.trunc(n) || 0; // -0 -> 0
  if (t < min || t > max) throw new TypeError(`${what} is outside the range ${min}..${max}`);
  return t;
}

function toBoolean(v) {
  return Boolean(v);
}

/** A dictionary argument: undefined/null -> {}, other non-objects -> TypeError. */
function toDictionary(v, what) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' && typeof v !== 'function') {
    throw new TypeError(`${what} is not an object`);
  }
  return v;
}

function toEnum(v, values, what) {
  const s = toDOMString(v);
  if (!values.includes(s)) {
    throw new TypeError(`'${s}' is not a valid value for enumeration ${what}`);
  }
  return s;
}

/** Convert a JS value to sequence<T> via the iterator protocol. */
function toSequence(v, what, convert) {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) {
    throw new TypeError(`${what} is not a sequence`);
  }
  const iter = v[Symbol.iterator];
  if (typeof iter !== 'function') throw new TypeError(`${what} is not iterable`);
  const out = [];
  for (const item of v) out.push(convert(item));
  return out;
}

/** UTF-8 byte length of a well-formed string (no Buffer: the layer also runs outside Node). */
function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i += 1;
      } else {
        n += 3;
      }
    } else n += 3;
  }
  return n;
}

// ---- Events -------------------------------------------------------------------------

function fire(target, type) {
  target.dispatchEvent(new Event(type));
}

const handlerState = new WeakMap();

/**
 * Whether the runtime's own EventTarget calls a target's `on<type>` property when it
 * dispatches (workerd does, for the handler attributes of its objects). Then the handler
 * attributes below must not also add a listener, or every handler would run twice.
 */
const RUNTIME_CALLS_ON_PROPERTIES = (() => {
  let calls = 0;
  class Probe extends EventTarget {}
  Object.defineProperty(Probe.prototype, 'onpolyrtcprobe', {
    configurable: true,
    get() { return () => { calls += 1; }; },
  });
  try {
    new Probe().dispatchEvent(new Event('polyrtcprobe'));
  } catch (err) {
    // No dispatch at load time: assume the standard behaviour.
  }
  return calls > 0;
})();

/**
 * Define `on<type>` event handler IDL attributes on a prototype, as the HTML standard
 * says: setting a callable registers one listener at the position of the first
 * registration, replacing keeps that position, null (or a non-callable) removes it.
 */
function defineEventHandlers(proto, types) {
  for (const type of types) {
    Object.defineProperty(proto, `on${type}`, {
      configurable: true,
      enumerable: true,
      get() {
        const map = handlerState.get(this);
        const slot = map && map.get(type);
        return slot ? slot.handler : null;
      },
      set(value) {
        let map = handlerState.get(this);
        if (!map) {
          map = new Map();
          handlerState.set(this, map);
        }
        const slot = map.get(type);
        if (typeof value !== 'function') {
          if (slot) {
            if (!RUNTIME_CALLS_ON_PROPERTIES) this.removeEventListener(type, slot.listener);
            map.delete(type);
          }
          return;
        }
        if (slot) {
          slot.handler = value;
          return;
        }
        const entry = { handler: value, listener: null };
        entry.listener = function (event) {
          const ret = entry.handler.call(this, event);
          if (ret === false && event.cancelable) event.preventDefault();
          return undefined;
        };
        map.set(type, entry);
        // Where the runtime calls `on<type>` itself, the getter's handler is all it needs.
        if (!RUNTIME_CALLS_ON_PROPERTIES) this.addEventListener(type, entry.listener);
      },
    });
  }
}

function illegalConstructor(token) {
  if (token !== INTERNAL) throw new TypeError('Illegal constructor');
}

export {
  INTERNAL,
  domException,
  mapEngineError,
  callEngine,
  toDOMString,
  toUSVString,
  toNumber,
  enforceRange,
  toBoolean,
  toDictionary,
  toEnum,
  toSequence,
  utf8Length,
  fire,
  defineEventHandlers,
  illegalConstructor,
};
