// Preact + htm, the one way every surface (widget, account pages) writes components.
import { h, render, Fragment, createRef } from '../../vendor/preact.mjs';
import htm from '../../vendor/htm.mjs';

export const html = htm.bind(h);
export { h, render, Fragment, createRef };
export { useState, useEffect, useRef, useMemo, useCallback, useLayoutEffect, useReducer, useContext, useId }
  from '../../vendor/hooks.mjs';
