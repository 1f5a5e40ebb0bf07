/**
 * im2col / col2im over NHWC float32 data in the wasm heap, for convolutions expressed as one matrix
 * product (Chellapilla, Puri, Simard 2006): row r = (b, oh, ow) of `cols` holds the input patch
 * under the filter at that output pixel, ordered (kh, kw, ci) like the filter's [KH, KW, Ci, Co]
 * rows. Interior patches are copied one filter row (KW·Ci contiguous floats) at a time.
 */
import type * as tf from '@tensorflow/tfjs';

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** Geometry from tfjs's conv info (dilation must be 1). */
export function geometryOf(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new Error('wasm training kernels support dilation 1 only');
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** Writes cols [count·OH·OW, KH·KW·Ci] for images [first, first+count) of x (NHWC at xAt) at colsAt. */
export function im2col(memory: Float32Array, xAt: number, g: ConvGeometry, first: number, count: number, colsAt: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = g;
  const rowLength = KH * KW * C;
  const filterRow = KW * C;
  let out = colsAt;
  for (let b = first; b < first + count; b++) {
    const imageAt = xAt + b * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      const ihBase = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < OW; ow++) {
        const iwBase = ow * g.strideWidth - g.padLeft;
        const rowInside = iwBase >= 0 && iwBase + KW <= W;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ihBase + kh;
          const dst = out + kh * filterRow;
          if (ih < 0 || ih >= H) {
            memory.fill(0, dst, dst + filterRow);
            continue;
          }
          const src = imageAt + (ih * W + iwBase) * C;
          if (rowInside) {
            if (filterRow >= 16) memory.copyWithin(dst, src, src + filterRow);
            else for (let i = 0; i < filterRow; i++) memory[dst + i] = memory[src + i]!;
            continue;
          }
          for (let kw = 0; kw < KW; kw++) {
            const iw = iwBase + kw;
            const d = dst + kw * C;
            if (iw < 0 || iw >= W) {
              for (let c = 0; c < C; c++) memory[d + c] = 0;
            } else {
              const s = src + kw * C;
              for (let c = 0; c < C; c++) memory[d + c] = memory[s + c]!;
            }
          }
        }
        out += rowLength;
      }
    }
  }
}

/** Accumulates cols [count·OH·OW, KH·KW·Ci] into dx (NHWC at dxAt, already zeroed) for images [first, first+count). */
export function col2imAdd(memory: Float32Array, colsAt: number, g: ConvGeometry, first: number, count: number, dxAt: number): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW } = g;
  const rowLength = KH * KW * C;
  let row = colsAt;
  for (let b = first; b < first + count; b++) {
    const imageAt = dxAt + b * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      const ihBase = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < OW; ow++) {
        const iwBase = ow * g.strideWidth - g.padLeft;
        for (let kh = 0; kh < KH; kh++) {
          const ih = ihBase + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = iwBase + kw;
            if (iw < 0 || iw >= W) continue;
            const d = imageAt + (ih * W + iw) * C;
            const s = row + (kh * KW + kw) * C;
            for (let c = 0; c < C; c++) memory[d + c] = memory[d + c]! + memory[s + c]!;
          }
        }
        row += rowLength;
      }
    }
  }
}

/** Images per chunk so that a cols buffer stays under `maxFloats`. */
export function imagesPerChunk(g: ConvGeometry, maxFloats = 1024 * 1024): number {
  const perImage = g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  return Math.max(1, Math.min(g.batch, Math.floor(maxFloats / perImage)));
}
