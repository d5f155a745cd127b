return await OrleansInfer.GpuCheck.GpuCheckApp.RunAsync(args);
