;; Looktwice's wasm SIMD training kernels (WebAssembly text; `npm run build:kernels` assembles it
;; with wabt into training-kernels-wasm.ts). The module imports tfjs-backend-wasm's own memory, so
;; every pointer below is a byte offset of a tensor in that heap (BackendWasm.dataIdMap's
;; memoryOffset): no copies in or out. It has no data segment and no memory of its own; it writes
;; only through the output pointers it is given.
;;
;; Layouts: activations are rows × C float32, C contiguous (NHWC flattened); per-channel vectors are
;; C float32 (or C float64 for the sums). Every function here needs C % 4 == 0 (the JavaScript side
;; falls back to its scalar loops otherwise; the convolution kernels have their own conditions). 16-byte
;; alignment is not required.
(module
  (import "env" "memory" (memory 0))

  ;; Per-channel sums of d = x − shift and of d² (Chan et al.'s shifted sums: the shift, the first
  ;; row, keeps Σd² − (Σd)²/n from cancelling). Rows are taken `block` at a time with float32
  ;; partial sums (a block's rows fit L1), each block's partial added to the float64 totals.
  ;;   out: float64 [2·C] — [0, C) Σd, [C, 2C) Σd²
  (func (export "bn_sums")
    (param $x i32) (param $rows i32) (param $channels i32) (param $shift i32) (param $block i32) (param $out i32)
    (local $rowBytes i32) (local $r i32) (local $end i32) (local $cj i32) (local $p i32) (local $pend i32)
    (local $o i32) (local $sh v128) (local $d v128) (local $s v128) (local $q v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    ;; zero the totals: 2·C float64 = 4·rowBytes bytes
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $rowBytes) (i32.const 2)))
    (block $rowsDone
      (loop $rowBlocks
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $end (i32.add (local.get $r) (local.get $block)))
        (if (i32.gt_u (local.get $end) (local.get $rows)) (then (local.set $end (local.get $rows))))
        (local.set $cj (i32.const 0))
        (loop $channelVectors
          (local.set $sh (v128.load (i32.add (local.get $shift) (local.get $cj))))
          (local.set $s (v128.const f32x4 0 0 0 0))
          (local.set $q (v128.const f32x4 0 0 0 0))
          (local.set $p (i32.add (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes))) (local.get $cj)))
          (local.set $pend (i32.add (i32.add (local.get $x) (i32.mul (local.get $end) (local.get $rowBytes))) (local.get $cj)))
          (loop $rowsOfBlock
            (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $sh)))
            (local.set $s (f32x4.add (local.get $s) (local.get $d)))
            (local.set $q (f32x4.add (local.get $q) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
            (br_if $rowsOfBlock (i32.lt_u (local.get $p) (local.get $pend))))
          ;; channel c = cj/4 has its float64 at out + 8c = out + 2·cj
          (local.set $o (i32.add (local.get $out) (i32.shl (local.get $cj) (i32.const 1))))
          (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.promote_low_f32x4 (local.get $s))))
          (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
          (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rowBytes) (i32.const 1))))
          (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.promote_low_f32x4 (local.get $q))))
          (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q)))))
          (local.set $cj (i32.add (local.get $cj) (i32.const 16)))
          (br_if $channelVectors (i32.lt_u (local.get $cj) (local.get $rowBytes))))
        (local.set $r (local.get $end))
        (br $rowBlocks))))

  ;; y = max(x·multiplier + shift, floor) per channel; floor is 0 for a fused ReLU and −∞ without.
  ;; f32x4.pmax(v, floor) = v < floor ? floor : v keeps NaN (as tf.relu does) and is one instruction.
  (func (export "bn_apply")
    (param $x i32) (param $y i32) (param $rows i32) (param $channels i32) (param $multiplier i32) (param $shift i32) (param $floor f32)
    (local $rowBytes i32) (local $p i32) (local $end i32) (local $o i32) (local $cj i32) (local $f v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $f (f32x4.splat (local.get $floor)))
    (local.set $p (local.get $x))
    (local.set $o (local.get $y))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done
      (br_if $done (i32.eqz (local.get $rows)))
      (loop $eachRow
        (local.set $cj (i32.const 0))
        (loop $eachVector
          (v128.store (i32.add (local.get $o) (local.get $cj))
            (f32x4.pmax
              (f32x4.add
                (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $cj))) (v128.load (i32.add (local.get $multiplier) (local.get $cj))))
                (v128.load (i32.add (local.get $shift) (local.get $cj))))
              (local.get $f)))
          (local.set $cj (i32.add (local.get $cj) (i32.const 16)))
          (br_if $eachVector (i32.lt_u (local.get $cj) (local.get $rowBytes))))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))
        (br_if $eachRow (i32.lt_u (local.get $p) (local.get $end))))))

  ;; Sums for the batch-norm gradient, with g = dy, or dy where y > 0 when the ReLU is fused
  ;; (relu ≠ 0; y is then the fused op's output, and ignored otherwise):
  ;;   out: float64 [2·C] — [0, C) Σg, [C, 2C) Σg·(x − mean). Blocks as in bn_sums.
  (func (export "bn_grad_sums")
    (param $dy i32) (param $x i32) (param $y i32) (param $rows i32) (param $channels i32) (param $mean i32) (param $relu i32)
    (param $block i32) (param $out i32)
    (local $rowBytes i32) (local $r i32) (local $end i32) (local $cj i32) (local $at i32) (local $atEnd i32) (local $o i32)
    (local $m v128) (local $keep v128) (local $g v128) (local $s v128) (local $q v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    ;; without the ReLU every lane is kept (mask | all-ones), and y is read at dy's address instead
    (local.set $keep (v128.const i32x4 0 0 0 0))
    (if (i32.eqz (local.get $relu))
      (then (local.set $keep (v128.const i32x4 -1 -1 -1 -1)) (local.set $y (local.get $dy))))
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $rowBytes) (i32.const 2)))
    (block $rowsDone
      (loop $rowBlocks
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $end (i32.add (local.get $r) (local.get $block)))
        (if (i32.gt_u (local.get $end) (local.get $rows)) (then (local.set $end (local.get $rows))))
        (local.set $cj (i32.const 0))
        (loop $channelVectors
          (local.set $m (v128.load (i32.add (local.get $mean) (local.get $cj))))
          (local.set $s (v128.const f32x4 0 0 0 0))
          (local.set $q (v128.const f32x4 0 0 0 0))
          ;; one byte offset into dy, x and y alike
          (local.set $at (i32.add (i32.mul (local.get $r) (local.get $rowBytes)) (local.get $cj)))
          (local.set $atEnd (i32.add (i32.mul (local.get $end) (local.get $rowBytes)) (local.get $cj)))
          (loop $rowsOfBlock
            (local.set $g (v128.and
              (v128.load (i32.add (local.get $dy) (local.get $at)))
              (v128.or (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $at))) (v128.const f32x4 0 0 0 0)) (local.get $keep))))
            (local.set $s (f32x4.add (local.get $s) (local.get $g)))
            (local.set $q (f32x4.add (local.get $q)
              (f32x4.mul (local.get $g) (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $at))) (local.get $m)))))
            (local.set $at (i32.add (local.get $at) (local.get $rowBytes)))
            (br_if $rowsOfBlock (i32.lt_u (local.get $at) (local.get $atEnd))))
          (local.set $o (i32.add (local.get $out) (i32.shl (local.get $cj) (i32.const 1))))
          (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.promote_low_f32x4 (local.get $s))))
          (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
          (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rowBytes) (i32.const 1))))
          (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.promote_low_f32x4 (local.get $q))))
          (v128.store offset=16 (local.get $o) (f64x2.add (v128.load offset=16 (local.get $o))
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q)))))
          (local.set $cj (i32.add (local.get $cj) (i32.const 16)))
          (br_if $channelVectors (i32.lt_u (local.get $cj) (local.get $rowBytes))))
        (local.set $r (local.get $end))
        (br $rowBlocks))))

  ;; dx = a·g + e·(x − mean) + k per channel (g as in bn_grad_sums): the batch-norm input gradient
  ;; a·(g − mean(g) − x̂·mean(g·x̂)) with a = scale/σ, e = −a·mean(g·(x − mean))/σ², k = −a·mean(g).
  (func (export "bn_grad_apply")
    (param $dy i32) (param $x i32) (param $y i32) (param $dx i32) (param $rows i32) (param $channels i32)
    (param $mean i32) (param $a i32) (param $e i32) (param $k i32) (param $relu i32)
    (local $rowBytes i32) (local $at i32) (local $atEnd i32) (local $cj i32) (local $keep v128) (local $g v128)
    (local.set $rowBytes (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $keep (v128.const i32x4 0 0 0 0))
    (if (i32.eqz (local.get $relu))
      (then (local.set $keep (v128.const i32x4 -1 -1 -1 -1)) (local.set $y (local.get $dy))))
    (local.set $atEnd (i32.mul (local.get $rows) (local.get $rowBytes)))
    (block $done
      (br_if $done (i32.eqz (local.get $rows)))
      (loop $eachRow
        (local.set $cj (i32.const 0))
        (loop $eachVector
          (local.set $g (v128.and
            (v128.load (i32.add (local.get $dy) (local.get $at)))
            (v128.or (f32x4.gt (v128.load (i32.add (local.get $y) (local.get $at))) (v128.const f32x4 0 0 0 0)) (local.get $keep))))
          (v128.store (i32.add (local.get $dx) (local.get $at))
            (f32x4.add
              (f32x4.add
                (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $a) (local.get $cj))))
                (f32x4.mul
                  (f32x4.sub (v128.load (i32.add (local.get $x) (local.get $at))) (v128.load (i32.add (local.get $mean) (local.get $cj))))
                  (v128.load (i32.add (local.get $e) (local.get $cj)))))
              (v128.load (i32.add (local.get $k) (local.get $cj)))))
          (local.set $at (i32.add (local.get $at) (i32.const 16)))
          (local.set $cj (i32.add (local.get $cj) (i32.const 16)))
          (br_if $eachVector (i32.lt_u (local.get $cj) (local.get $rowBytes))))
        (br_if $eachRow (i32.lt_u (local.get $at) (local.get $atEnd))))))

  ;; The filter gradient of an NHWC convolution (dilation 1), accumulated into dw [KH, KW, Ci, Co]:
  ;;   dw[kh, kw, ci, co] += Σ_(b, oh, ow) x[b, oh·sh + kh − pt, ow·sw + kw − pl, ci] · dy[b, oh, ow, co]
  ;; over `images` images of x [images, H, W, Ci] and dy [images, OH, OW, Co]. Needs Co % 8 == 0.
  ;; A tile of dw (4 input channels × 8 output channels: 8 f32x4 accumulators in registers) is
  ;; summed over every output pixel of the images; the caller passes a few images at a time so
  ;; that their x and dy stay in cache across the KH·KW·Ci/4·Co/8 tiles. For each (kh, kw) only the
  ;; output columns whose input column lies inside the image are visited (no padding branches).
  (func (export "conv_filter_grad")
    (param $x i32) (param $dy i32) (param $dw i32) (param $images i32)
    (param $H i32) (param $W i32) (param $Ci i32) (param $OH i32) (param $OW i32) (param $Co i32)
    (param $KH i32) (param $KW i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $coBytes i32) (local $xRow i32) (local $xImage i32) (local $dyRow i32) (local $dyImage i32) (local $xStep i32)
    (local $kh i32) (local $kw i32) (local $ci i32) (local $co i32) (local $b i32) (local $oh i32) (local $ih i32)
    (local $owLo i32) (local $owHi i32) (local $n i32) (local $k i32) (local $xColumn i32) (local $dyColumn i32)
    (local $wp i32) (local $xp i32) (local $dp i32) (local $t i32)
    (local $d0 v128) (local $d1 v128) (local $s v128) (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128) 
    (local.set $coBytes (i32.shl (local.get $Co) (i32.const 2)))
    (local.set $xRow (i32.shl (i32.mul (local.get $W) (local.get $Ci)) (i32.const 2)))
    (local.set $xImage (i32.mul (local.get $H) (local.get $xRow)))
    (local.set $dyRow (i32.mul (local.get $OW) (local.get $coBytes)))
    (local.set $dyImage (i32.mul (local.get $OH) (local.get $dyRow)))
    (local.set $xStep (i32.shl (i32.mul (local.get $sw) (local.get $Ci)) (i32.const 2)))
    (block $done
      (br_if $done (i32.or (i32.eqz (local.get $images)) (i32.eqz (local.get $OH))))
      (local.set $kh (i32.const 0))
      (loop $filterRows
        (local.set $kw (i32.const 0))
        (loop $filterColumns
          ;; output columns ow with 0 ≤ ow·sw + kw − pl < W: [owLo, owHi)
          (local.set $t (i32.sub (local.get $pl) (local.get $kw)))
          (local.set $owLo (i32.const 0))
          (if (i32.gt_s (local.get $t) (i32.const 0))
            (then (local.set $owLo (i32.div_s (i32.sub (i32.add (local.get $t) (local.get $sw)) (i32.const 1)) (local.get $sw)))))
          (local.set $t (i32.add (local.get $W) (local.get $t)))
          (local.set $owHi (i32.const 0))
          (if (i32.gt_s (local.get $t) (i32.const 0))
            (then (local.set $owHi (i32.div_s (i32.sub (i32.add (local.get $t) (local.get $sw)) (i32.const 1)) (local.get $sw)))))
          (if (i32.gt_s (local.get $owHi) (local.get $OW)) (then (local.set $owHi (local.get $OW))))
          (local.set $n (i32.sub (local.get $owHi) (local.get $owLo)))
          (if (i32.gt_s (local.get $n) (i32.const 0))
            (then
              (local.set $xColumn (i32.shl (i32.mul (i32.sub (i32.add (i32.mul (local.get $owLo) (local.get $sw)) (local.get $kw)) (local.get $pl)) (local.get $Ci)) (i32.const 2)))
              (local.set $dyColumn (i32.mul (local.get $owLo) (local.get $coBytes)))
              (local.set $ci (i32.const 0))
              (loop $inputChannels
                (local.set $co (i32.const 0))
                (loop $outputChannels
                  (if (i32.ge_s (i32.sub (local.get $Ci) (local.get $ci)) (i32.const 4))
                    (then
          ;; ---- 4 input channel(s) × 8 output channels
          (local.set $wp (i32.add (local.get $dw) (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $Ci)) (local.get $ci)) (local.get $coBytes)) (i32.shl (local.get $co) (i32.const 2)))))
          (local.set $a00 (v128.load offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes)))))
          (local.set $a01 (v128.load offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes)))))
          (local.set $a10 (v128.load offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 1) (local.get $coBytes)))))
          (local.set $a11 (v128.load offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 1) (local.get $coBytes)))))
          (local.set $a20 (v128.load offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 2) (local.get $coBytes)))))
          (local.set $a21 (v128.load offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 2) (local.get $coBytes)))))
          (local.set $a30 (v128.load offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 3) (local.get $coBytes)))))
          (local.set $a31 (v128.load offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 3) (local.get $coBytes)))))
          (local.set $b (i32.const 0))
          (loop $images4
            (local.set $oh (i32.const 0))
            (loop $outRows4
              (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sh)) (local.get $kh)) (local.get $pt)))
              (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $H)))
                (then
                  (local.set $xp (i32.add (i32.add (local.get $x) (i32.mul (local.get $b) (local.get $xImage)))
                    (i32.add (i32.mul (local.get $ih) (local.get $xRow)) (i32.add (local.get $xColumn) (i32.shl (local.get $ci) (i32.const 2))))))
                  (local.set $dp (i32.add (i32.add (local.get $dy) (i32.mul (local.get $b) (local.get $dyImage)))
                    (i32.add (i32.mul (local.get $oh) (local.get $dyRow)) (i32.add (local.get $dyColumn) (i32.shl (local.get $co) (i32.const 2))))))
                  (local.set $k (local.get $n))
                  (loop $pixels4
                    (local.set $d0 (v128.load (local.get $dp)))
                    (local.set $d1 (v128.load offset=16 (local.get $dp)))
                    (local.set $s (v128.load32_splat offset=0 (local.get $xp)))
                    (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $s (v128.load32_splat offset=4 (local.get $xp)))
                    (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $s (v128.load32_splat offset=8 (local.get $xp)))
                    (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $s (v128.load32_splat offset=12 (local.get $xp)))
                    (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
                    (local.set $dp (i32.add (local.get $dp) (local.get $coBytes)))
                    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                    (br_if $pixels4 (local.get $k)))))
              (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
              (br_if $outRows4 (i32.lt_u (local.get $oh) (local.get $OH))))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br_if $images4 (i32.lt_u (local.get $b) (local.get $images))))
          (v128.store offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes))) (local.get $a00))
          (v128.store offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes))) (local.get $a01))
          (v128.store offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 1) (local.get $coBytes))) (local.get $a10))
          (v128.store offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 1) (local.get $coBytes))) (local.get $a11))
          (v128.store offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 2) (local.get $coBytes))) (local.get $a20))
          (v128.store offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 2) (local.get $coBytes))) (local.get $a21))
          (v128.store offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 3) (local.get $coBytes))) (local.get $a30))
          (v128.store offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 3) (local.get $coBytes))) (local.get $a31)))
                    (else
          ;; ---- 1 input channel(s) × 8 output channels
          (local.set $wp (i32.add (local.get $dw) (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw)) (local.get $Ci)) (local.get $ci)) (local.get $coBytes)) (i32.shl (local.get $co) (i32.const 2)))))
          (local.set $a00 (v128.load offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes)))))
          (local.set $a01 (v128.load offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes)))))
          (local.set $b (i32.const 0))
          (loop $images1
            (local.set $oh (i32.const 0))
            (loop $outRows1
              (local.set $ih (i32.sub (i32.add (i32.mul (local.get $oh) (local.get $sh)) (local.get $kh)) (local.get $pt)))
              (if (i32.and (i32.ge_s (local.get $ih) (i32.const 0)) (i32.lt_s (local.get $ih) (local.get $H)))
                (then
                  (local.set $xp (i32.add (i32.add (local.get $x) (i32.mul (local.get $b) (local.get $xImage)))
                    (i32.add (i32.mul (local.get $ih) (local.get $xRow)) (i32.add (local.get $xColumn) (i32.shl (local.get $ci) (i32.const 2))))))
                  (local.set $dp (i32.add (i32.add (local.get $dy) (i32.mul (local.get $b) (local.get $dyImage)))
                    (i32.add (i32.mul (local.get $oh) (local.get $dyRow)) (i32.add (local.get $dyColumn) (i32.shl (local.get $co) (i32.const 2))))))
                  (local.set $k (local.get $n))
                  (loop $pixels1
                    (local.set $d0 (v128.load (local.get $dp)))
                    (local.set $d1 (v128.load offset=16 (local.get $dp)))
                    (local.set $s (v128.load32_splat offset=0 (local.get $xp)))
                    (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
                    (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
                    (local.set $xp (i32.add (local.get $xp) (local.get $xStep)))
                    (local.set $dp (i32.add (local.get $dp) (local.get $coBytes)))
                    (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                    (br_if $pixels1 (local.get $k)))))
              (local.set $oh (i32.add (local.get $oh) (i32.const 1)))
              (br_if $outRows1 (i32.lt_u (local.get $oh) (local.get $OH))))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br_if $images1 (i32.lt_u (local.get $b) (local.get $images))))
          (v128.store offset=0 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes))) (local.get $a00))
          (v128.store offset=16 (i32.add (local.get $wp) (i32.mul (i32.const 0) (local.get $coBytes))) (local.get $a01))))
                  (local.set $co (i32.add (local.get $co) (i32.const 8)))
                  (br_if $outputChannels (i32.lt_u (local.get $co) (local.get $Co))))
                (if (i32.ge_s (i32.sub (local.get $Ci) (local.get $ci)) (i32.const 4))
                  (then (local.set $ci (i32.add (local.get $ci) (i32.const 4))))
                  (else (local.set $ci (i32.add (local.get $ci) (i32.const 1)))))
                (br_if $inputChannels (i32.lt_u (local.get $ci) (local.get $Ci))))))
          (local.set $kw (i32.add (local.get $kw) (i32.const 1)))
          (br_if $filterColumns (i32.lt_u (local.get $kw) (local.get $KW))))
        (local.set $kh (i32.add (local.get $kh) (i32.const 1)))
        (br_if $filterRows (i32.lt_u (local.get $kh) (local.get $KH))))))

  ;; The input gradient of an NHWC convolution (dilation 1), written (not accumulated) into
  ;; dx [images, H, W, Ci]:
  ;;   dx[b, ih, iw, ci] = Σ_(kh, kw, co) dy[b, (ih + pt − kh)/sh, (iw + pl − kw)/sw, co] · wt[kh, kw, co, ci]
  ;; over the taps where both divisions are exact. dy [images, OHp, OWp, Co] is the caller's
  ;; zero-bordered copy of the output gradient and pt, pl its padding shifted by that border, so
  ;; every tap lands inside it (no bounds checks here); wt is the filter with Ci innermost
  ;; ([KH, KW, Co, Ci]). Needs Ci % 8 == 0. The dx pixels of one row with the same column phase
  ;; (iw mod sw) share their taps, and their dy pixels are consecutive: each tile sums 4 such
  ;; pixels × 8 input channels (8 f32x4 accumulators in registers) over its taps and Co, the rest of
  ;; a row's phase 1 pixel at a time. A stride-1 call is a plain correlation (a forward convolution).
  (func (export "conv_input_grad")
    (param $dy i32) (param $wt i32) (param $dx i32) (param $images i32)
    (param $H i32) (param $W i32) (param $Ci i32) (param $OHp i32) (param $OWp i32) (param $Co i32)
    (param $KH i32) (param $KW i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $ciBytes i32) (local $coBytes i32) (local $c2 i32) (local $c3 i32) (local $dyRow i32) (local $dyImage i32)
    (local $dxRow i32) (local $dxImage i32) (local $dxStep i32) (local $wTap i32)
    (local $b i32) (local $ih i32) (local $pw i32) (local $nj i32) (local $ci i32) (local $j i32) (local $kh i32) (local $kw i32)
    (local $kh0 i32) (local $kw0 i32) (local $dyImageAt i32) (local $dyAt i32) (local $dxRowAt i32) (local $wtTile i32)
    (local $dp i32) (local $wp i32) (local $wpEnd i32) (local $dxp i32)
    (local $dyRowAt i32) (local $owBase i32) (local $dp0 i32) (local $wp0 i32) (local $swTap i32)
    (local $w0 v128) (local $w1 v128) (local $s v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $ciBytes (i32.shl (local.get $Ci) (i32.const 2)))
    (local.set $coBytes (i32.shl (local.get $Co) (i32.const 2)))
    (local.set $c2 (i32.shl (local.get $coBytes) (i32.const 1)))
    (local.set $c3 (i32.add (local.get $c2) (local.get $coBytes)))
    (local.set $dyRow (i32.mul (local.get $OWp) (local.get $coBytes)))
    (local.set $dyImage (i32.mul (local.get $OHp) (local.get $dyRow)))
    (local.set $dxRow (i32.mul (local.get $W) (local.get $ciBytes)))
    (local.set $dxImage (i32.mul (local.get $H) (local.get $dxRow)))
    (local.set $dxStep (i32.mul (local.get $sw) (local.get $ciBytes)))
    (local.set $wTap (i32.mul (local.get $Co) (local.get $ciBytes)))
    (local.set $swTap (i32.mul (local.get $sw) (local.get $wTap)))
    (block $done
      (br_if $done (i32.or (i32.or (i32.eqz (local.get $images)) (i32.eqz (local.get $H))) (i32.or (i32.eqz (local.get $W)) (i32.eqz (local.get $Co)))))
      (local.set $b (i32.const 0))
      (loop $eachImage
        (local.set $dyImageAt (i32.add (local.get $dy) (i32.mul (local.get $b) (local.get $dyImage))))
        (local.set $ih (i32.const 0))
        (loop $eachRow
          (local.set $kh0 (i32.rem_u (i32.add (local.get $ih) (local.get $pt)) (local.get $sh)))
          ;; the dy row of the first tap row kh0; each next one (kh + sh) reads the row above
          (local.set $dyRowAt (i32.add (local.get $dyImageAt)
            (i32.mul (i32.div_u (i32.sub (i32.add (local.get $ih) (local.get $pt)) (local.get $kh0)) (local.get $sh)) (local.get $dyRow))))
          (local.set $dxRowAt (i32.add (i32.add (local.get $dx) (i32.mul (local.get $b) (local.get $dxImage))) (i32.mul (local.get $ih) (local.get $dxRow))))
          (local.set $pw (i32.const 0))
          (loop $eachPhase
            ;; pixels iw = pw + j·sw < W of this phase, j ∈ [0, nj)
            (local.set $nj (i32.div_u (i32.add (i32.sub (local.get $W) (local.get $pw)) (i32.sub (local.get $sw) (i32.const 1))) (local.get $sw)))
            (local.set $kw0 (i32.rem_u (i32.add (local.get $pw) (local.get $pl)) (local.get $sw)))
            ;; pixel j's dy column for tap kw0 is j + owBase
            (local.set $owBase (i32.div_u (i32.sub (i32.add (local.get $pw) (local.get $pl)) (local.get $kw0)) (local.get $sw)))
            (local.set $ci (i32.const 0))
            (loop $channelTiles
              (local.set $wtTile (i32.add (local.get $wt) (i32.shl (local.get $ci) (i32.const 2))))
              (local.set $j (i32.const 0))
          ;; ---- 4 pixel(s) × 8 input channels
          (block $blocks4Done
            (loop $blocks4
              (br_if $blocks4Done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $nj)))
              (local.set $a00 (v128.const f32x4 0 0 0 0)) (local.set $a01 (v128.const f32x4 0 0 0 0))
              (local.set $a10 (v128.const f32x4 0 0 0 0)) (local.set $a11 (v128.const f32x4 0 0 0 0))
              (local.set $a20 (v128.const f32x4 0 0 0 0)) (local.set $a21 (v128.const f32x4 0 0 0 0))
              (local.set $a30 (v128.const f32x4 0 0 0 0)) (local.set $a31 (v128.const f32x4 0 0 0 0))
              (local.set $kh (local.get $kh0))
              (local.set $dyAt (local.get $dyRowAt))
              (block $tapRows4Done
                (loop $tapRows4
                  (br_if $tapRows4Done (i32.ge_u (local.get $kh) (local.get $KH)))
                  (local.set $kw (local.get $kw0))
                  (local.set $dp0 (i32.add (local.get $dyAt) (i32.mul (i32.add (local.get $j) (local.get $owBase)) (local.get $coBytes))))
                  (local.set $wp0 (i32.add (local.get $wtTile) (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw0)) (local.get $wTap))))
                  (block $tapColumns4Done
                    (loop $tapColumns4
                      (br_if $tapColumns4Done (i32.ge_u (local.get $kw) (local.get $KW)))
                      (local.set $dp (local.get $dp0))
                      (local.set $wp (local.get $wp0))
                      (local.set $wpEnd (i32.add (local.get $wp) (local.get $wTap)))
                      (loop $reduce4
                      (local.set $w0 (v128.load (local.get $wp)))
                      (local.set $w1 (v128.load offset=16 (local.get $wp)))
                      (local.set $s (v128.load32_splat (local.get $dp)))
                      (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
                      (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
                      (local.set $s (v128.load32_splat (i32.add (local.get $dp) (local.get $coBytes))))
                      (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
                      (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
                      (local.set $s (v128.load32_splat (i32.add (local.get $dp) (local.get $c2))))
                      (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $w0))))
                      (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $w1))))
                      (local.set $s (v128.load32_splat (i32.add (local.get $dp) (local.get $c3))))
                      (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $w0))))
                      (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $w1))))
                      (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
                      (local.set $wp (i32.add (local.get $wp) (local.get $ciBytes)))
                      (br_if $reduce4 (i32.lt_u (local.get $wp) (local.get $wpEnd))))
                      ;; the next tap kw + sw reads the dy pixel before and the filter column sw after
                      (local.set $kw (i32.add (local.get $kw) (local.get $sw)))
                      (local.set $dp0 (i32.sub (local.get $dp0) (local.get $coBytes)))
                      (local.set $wp0 (i32.add (local.get $wp0) (local.get $swTap)))
                      (br $tapColumns4)))
                  (local.set $kh (i32.add (local.get $kh) (local.get $sh)))
                  (local.set $dyAt (i32.sub (local.get $dyAt) (local.get $dyRow)))
                  (br $tapRows4)))
              (local.set $dxp (i32.add (local.get $dxRowAt) (i32.add (i32.mul (i32.add (local.get $pw) (i32.mul (local.get $j) (local.get $sw))) (local.get $ciBytes)) (i32.shl (local.get $ci) (i32.const 2)))))
              (v128.store (local.get $dxp) (local.get $a00)) (v128.store offset=16 (local.get $dxp) (local.get $a01))
              (local.set $dxp (i32.add (local.get $dxp) (local.get $dxStep)))
              (v128.store (local.get $dxp) (local.get $a10)) (v128.store offset=16 (local.get $dxp) (local.get $a11))
              (local.set $dxp (i32.add (local.get $dxp) (local.get $dxStep)))
              (v128.store (local.get $dxp) (local.get $a20)) (v128.store offset=16 (local.get $dxp) (local.get $a21))
              (local.set $dxp (i32.add (local.get $dxp) (local.get $dxStep)))
              (v128.store (local.get $dxp) (local.get $a30)) (v128.store offset=16 (local.get $dxp) (local.get $a31))
              (local.set $j (i32.add (local.get $j) (i32.const 4)))
              (br $blocks4)))
          ;; ---- 1 pixel(s) × 8 input channels
          (block $blocks1Done
            (loop $blocks1
              (br_if $blocks1Done (i32.gt_u (i32.add (local.get $j) (i32.const 1)) (local.get $nj)))
              (local.set $a00 (v128.const f32x4 0 0 0 0)) (local.set $a01 (v128.const f32x4 0 0 0 0))
              (local.set $kh (local.get $kh0))
              (local.set $dyAt (local.get $dyRowAt))
              (block $tapRows1Done
                (loop $tapRows1
                  (br_if $tapRows1Done (i32.ge_u (local.get $kh) (local.get $KH)))
                  (local.set $kw (local.get $kw0))
                  (local.set $dp0 (i32.add (local.get $dyAt) (i32.mul (i32.add (local.get $j) (local.get $owBase)) (local.get $coBytes))))
                  (local.set $wp0 (i32.add (local.get $wtTile) (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $KW)) (local.get $kw0)) (local.get $wTap))))
                  (block $tapColumns1Done
                    (loop $tapColumns1
                      (br_if $tapColumns1Done (i32.ge_u (local.get $kw) (local.get $KW)))
                      (local.set $dp (local.get $dp0))
                      (local.set $wp (local.get $wp0))
                      (local.set $wpEnd (i32.add (local.get $wp) (local.get $wTap)))
                      (loop $reduce1
                      (local.set $w0 (v128.load (local.get $wp)))
                      (local.set $w1 (v128.load offset=16 (local.get $wp)))
                      (local.set $s (v128.load32_splat (local.get $dp)))
                      (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
                      (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
                      (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
                      (local.set $wp (i32.add (local.get $wp) (local.get $ciBytes)))
                      (br_if $reduce1 (i32.lt_u (local.get $wp) (local.get $wpEnd))))
                      ;; the next tap kw + sw reads the dy pixel before and the filter column sw after
                      (local.set $kw (i32.add (local.get $kw) (local.get $sw)))
                      (local.set $dp0 (i32.sub (local.get $dp0) (local.get $coBytes)))
                      (local.set $wp0 (i32.add (local.get $wp0) (local.get $swTap)))
                      (br $tapColumns1)))
                  (local.set $kh (i32.add (local.get $kh) (local.get $sh)))
                  (local.set $dyAt (i32.sub (local.get $dyAt) (local.get $dyRow)))
                  (br $tapRows1)))
              (local.set $dxp (i32.add (local.get $dxRowAt) (i32.add (i32.mul (i32.add (local.get $pw) (i32.mul (local.get $j) (local.get $sw))) (local.get $ciBytes)) (i32.shl (local.get $ci) (i32.const 2)))))
              (v128.store (local.get $dxp) (local.get $a00)) (v128.store offset=16 (local.get $dxp) (local.get $a01))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $blocks1)))
              (local.set $ci (i32.add (local.get $ci) (i32.const 8)))
              (br_if $channelTiles (i32.lt_u (local.get $ci) (local.get $Ci))))
            (local.set $pw (i32.add (local.get $pw) (i32.const 1)))
            (br_if $eachPhase (i32.and (i32.lt_u (local.get $pw) (local.get $sw)) (i32.lt_u (local.get $pw) (local.get $W)))))
          (local.set $ih (i32.add (local.get $ih) (i32.const 1)))
          (br_if $eachRow (i32.lt_u (local.get $ih) (local.get $H))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br_if $eachImage (i32.lt_u (local.get $b) (local.get $images))))))

  ;; One Adam(W) step over n float32 of a variable, written to new buffers (w2, m2, v2), with the
  ;; optimizer's own operation order so every value equals its separate tfjs ops:
  ;;   m2 = m·β1 + g·(1 − β1);  v2 = v·β2 + g²·(1 − β2)
  ;;   u = (m2 / c1) / (sqrt(v2 / c2) + ε) + w·wd;  w2 = w − u·lr
  ;; (c1, c2: the bias corrections 1 − β^t; wd 0 for parameters without weight decay). Any n.
  (func (export "adam_update")
    (param $w i32) (param $m i32) (param $v i32) (param $g i32) (param $w2 i32) (param $m2 i32) (param $v2 i32) (param $n i32)
    (param $beta1 f32) (param $oneMinusBeta1 f32) (param $beta2 f32) (param $oneMinusBeta2 f32)
    (param $c1 f32) (param $c2 f32) (param $epsilon f32) (param $wd f32) (param $lr f32)
    (local $at i32) (local $end i32) (local $vecEnd i32)
    (local $b1 v128) (local $ob1 v128) (local $b2 v128) (local $ob2 v128) (local $k1 v128) (local $k2 v128) (local $e v128) (local $d v128) (local $l v128)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $wv v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $ws f32)
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $ob1 (f32x4.splat (local.get $oneMinusBeta1)))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $ob2 (f32x4.splat (local.get $oneMinusBeta2)))
    (local.set $k1 (f32x4.splat (local.get $c1)))
    (local.set $k2 (f32x4.splat (local.get $c2)))
    (local.set $e (f32x4.splat (local.get $epsilon)))
    (local.set $d (f32x4.splat (local.get $wd)))
    (local.set $l (f32x4.splat (local.get $lr)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vecEnd)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $at))))
        (local.set $wv (v128.load (i32.add (local.get $w) (local.get $at))))
        (local.set $mv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $at))) (local.get $b1)) (f32x4.mul (local.get $gv) (local.get $ob1))))
        (local.set $vv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $at))) (local.get $b2))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $ob2))))
        (v128.store (i32.add (local.get $m2) (local.get $at)) (local.get $mv))
        (v128.store (i32.add (local.get $v2) (local.get $at)) (local.get $vv))
        (v128.store (i32.add (local.get $w2) (local.get $at))
          (f32x4.sub (local.get $wv) (f32x4.mul
            (f32x4.add
              (f32x4.div (f32x4.div (local.get $mv) (local.get $k1)) (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $k2))) (local.get $e)))
              (f32x4.mul (local.get $wv) (local.get $d)))
            (local.get $l))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $at))))
        (local.set $ws (f32.load (i32.add (local.get $w) (local.get $at))))
        (local.set $ms (f32.add (f32.mul (f32.load (i32.add (local.get $m) (local.get $at))) (local.get $beta1)) (f32.mul (local.get $gs) (local.get $oneMinusBeta1))))
        (local.set $vs (f32.add (f32.mul (f32.load (i32.add (local.get $v) (local.get $at))) (local.get $beta2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusBeta2))))
        (f32.store (i32.add (local.get $m2) (local.get $at)) (local.get $ms))
        (f32.store (i32.add (local.get $v2) (local.get $at)) (local.get $vs))
        (f32.store (i32.add (local.get $w2) (local.get $at))
          (f32.sub (local.get $ws) (f32.mul
            (f32.add
              (f32.div (f32.div (local.get $ms) (local.get $c1)) (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $epsilon)))
              (f32.mul (local.get $ws) (local.get $wd)))
            (local.get $lr))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $scalars))))

  ;; One SGD-with-momentum step over n float32, written to new buffers (w2, u2), in the optimizer's
  ;; operation order: g' = g + w·wd;  u2 = u·μ + g'·lr;  w2 = w − u2. Any n.
  (func (export "momentum_update")
    (param $w i32) (param $u i32) (param $g i32) (param $w2 i32) (param $u2 i32) (param $n i32)
    (param $momentum f32) (param $wd f32) (param $lr f32)
    (local $at i32) (local $end i32) (local $vecEnd i32) (local $mu v128) (local $d v128) (local $l v128) (local $wv v128) (local $uv v128)
    (local $ws f32) (local $us f32)
    (local.set $mu (f32x4.splat (local.get $momentum)))
    (local.set $d (f32x4.splat (local.get $wd)))
    (local.set $l (f32x4.splat (local.get $lr)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vecEnd)))
        (local.set $wv (v128.load (i32.add (local.get $w) (local.get $at))))
        (local.set $uv (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $u) (local.get $at))) (local.get $mu))
          (f32x4.mul (f32x4.add (v128.load (i32.add (local.get $g) (local.get $at))) (f32x4.mul (local.get $wv) (local.get $d))) (local.get $l))))
        (v128.store (i32.add (local.get $u2) (local.get $at)) (local.get $uv))
        (v128.store (i32.add (local.get $w2) (local.get $at)) (f32x4.sub (local.get $wv) (local.get $uv)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    (block $scalarsDone
      (loop $scalars
        (br_if $scalarsDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $ws (f32.load (i32.add (local.get $w) (local.get $at))))
        (local.set $us (f32.add (f32.mul (f32.load (i32.add (local.get $u) (local.get $at))) (local.get $momentum))
          (f32.mul (f32.add (f32.load (i32.add (local.get $g) (local.get $at))) (f32.mul (local.get $ws) (local.get $wd))) (local.get $lr))))
        (f32.store (i32.add (local.get $u2) (local.get $at)) (local.get $us))
        (f32.store (i32.add (local.get $w2) (local.get $at)) (f32.sub (local.get $ws) (local.get $us)))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $scalars))))
)
