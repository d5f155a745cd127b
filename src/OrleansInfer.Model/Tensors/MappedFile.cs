using System.IO.MemoryMappedFiles;

namespace OrleansInfer.Model.Tensors;

/// <summary>
/// A read-only memory mapping of a whole file. Tensor data is read in place through it, never copied into
/// managed arrays; the mapping lives as long as the model that owns it.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _pointer;

    private MappedFile(string path, MemoryMappedFile? file, MemoryMappedViewAccessor? view, byte* pointer, long length)
    {
        Path = path;
        _file = file;
        _view = view;
        _pointer = pointer;
        Length = length;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>First byte of the mapping; valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer => _pointer != null || Length == 0 ? _pointer : throw new ObjectDisposedException(Path);

    public static MappedFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"file not found: {path}", path);
        if (info.Length == 0) return new MappedFile(path, null, null, null, 0);

        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            return new MappedFile(path, file, view, p, info.Length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + length, Length);
        return new ReadOnlySpan<byte>(Pointer + offset, length);
    }

    public void Dispose()
    {
        if (_view is not null && _pointer != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _pointer = null;
        }
        _view?.Dispose();
        _file?.Dispose();
    }
}
