/**
 * Token and sequence values are `Float32Array` in production; every core function also accepts
 * `Float64Array`, so gradient checks can run the very same code in float64.
 */
export type FloatArray = Float32Array | Float64Array;
