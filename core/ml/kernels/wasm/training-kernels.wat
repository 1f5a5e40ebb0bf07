;; Looktwice's wasm SIMD training kernels (WebAssembly text; `npm run build:kernels` assembles it
;; with wabt into training-kernels-wasm.ts). The module imports tfjs-backend-wasm's own memory, so
;; every pointer below is a byte offset of a tensor in that heap (BackendWasm.dataIdMap's
;; memoryOffset): no copies in or out. It has no data segment and no memory of its own; it writes
;; only through the output pointers it is given.
;;
;; Layouts: activations are rows × C float32, C contiguous (NHWC flattened); per-channel vectors are
;; C float32 (or C float64 for the sums). Every function here needs C % 4 == 0 (the JavaScript side
;; falls back to its scalar loops otherwise). 16-byte alignment is not required.
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
)
