/**
 * Identity for the wasm backend without a copy. tfjs's engine clones (Identity) every tensor a
 * kernel saves for its gradient, and the wasm backend's own Identity copies the data: in a SimCLR
 * step that is every activation a convolution, batch norm or ReLU keeps for backprop, ~40 copies of
 * up to 8 MB. Tensors are immutable, so the clone can share the data with a reference count, as
 * the cpu backend's Identity (and the wasm backend's own Reshape) do.
 */
import * as tf from '@tensorflow/tfjs';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

function identity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  (args.backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};
