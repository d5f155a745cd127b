using System.Runtime.InteropServices;

namespace OrleansInfer.Backends.Ilgpu;

/// <summary>The few CUDA driver API calls the probe makes; results are <c>CUresult</c> codes (0 = CUDA_SUCCESS).</summary>
internal interface ICudaDriver
{
    /// <summary>The library the calls go to, for messages.</summary>
    string Library { get; }

    int Init();

    int GetDeviceCount(out int count);

    /// <summary>"CUDA_ERROR_NO_DEVICE", or null for a code the driver does not know.</summary>
    string? ErrorName(int result);

    /// <summary>"no CUDA-capable device is detected", or null for a code the driver does not know.</summary>
    string? ErrorString(int result);
}

/// <summary>
/// The CUDA driver library called directly. Its names are the ones ILGPU's import resolves to here (see
/// <c>AcceleratorFactory.UseVersionedLibcuda</c>); the library stays loaded, as ILGPU loads it again anyway.
/// </summary>
internal sealed unsafe class LibCuda : ICudaDriver
{
    public static readonly string[] DefaultNames = OperatingSystem.IsWindows() ? ["nvcuda.dll"] : ["libcuda.so", "libcuda.so.1"];

    // Export addresses; zero where the library lacks one (a call then fails naming it).
    private readonly IntPtr _init;
    private readonly IntPtr _deviceGetCount;
    private readonly IntPtr _getErrorName;
    private readonly IntPtr _getErrorString;

    private LibCuda(string library, IntPtr handle)
    {
        Library = library;
        _init = Export(handle, "cuInit");
        _deviceGetCount = Export(handle, "cuDeviceGetCount");
        _getErrorName = Export(handle, "cuGetErrorName");
        _getErrorString = Export(handle, "cuGetErrorString");
    }

    public string Library { get; }

    /// <summary>The first of <paramref name="names"/> that loads (names as dlopen takes them, or paths), or null.</summary>
    public static LibCuda? Open(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, out var handle)) return new LibCuda(name, handle);
        }
        return null;
    }

    public int Init() => ((delegate* unmanaged<uint, int>)Require(_init, "cuInit"))(0);

    public int GetDeviceCount(out int count)
    {
        int n;
        var result = ((delegate* unmanaged<int*, int>)Require(_deviceGetCount, "cuDeviceGetCount"))(&n);
        count = n;
        return result;
    }

    public string? ErrorName(int result) => Text(Require(_getErrorName, "cuGetErrorName"), result);

    public string? ErrorString(int result) => Text(Require(_getErrorString, "cuGetErrorString"), result);

    private static string? Text(IntPtr function, int result)
    {
        byte* text = null;
        return ((delegate* unmanaged<int, byte**, int>)function)(result, &text) == 0 && text != null ? Marshal.PtrToStringUTF8((IntPtr)text) : null;
    }

    private static IntPtr Export(IntPtr handle, string name) => NativeLibrary.TryGetExport(handle, name, out var address) ? address : IntPtr.Zero;

    private IntPtr Require(IntPtr function, string name) =>
        function != IntPtr.Zero ? function : throw new EntryPointNotFoundException($"{Library} does not export {name}");
}
