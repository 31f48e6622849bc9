// What @energetic-ai/embeddings (the USE tokenizer and model wrapper) imports from "@energetic-ai/core",
// TensorFlow.js for Node bundled whole, served in the browser by TensorFlow.js's own packages
// instead: vite.config.ts points "@energetic-ai/core" here.
export * from "@tensorflow/tfjs-core";
export { loadGraphModel } from "@tensorflow/tfjs-converter";
