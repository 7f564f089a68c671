namespace Meta.ComputeAccess;

/// <summary>
/// A business rule refused the request; the message is written for the person who made it. Nothing the refused
/// request changed is saved. <see cref="Fields"/> names, where the rule is about particular fields, the message to
/// show beside each (keys are the domain's field names, e.g. <c>Title</c>).
/// </summary>
public sealed class DomainException(string message, IReadOnlyDictionary<string, string>? fields = null) : Exception(message)
{
    public DomainException()
        : this("The request was refused.")
    {
    }

    public DomainException(string message, Exception innerException)
        : this(message + " " + innerException.Message)
    {
    }

    public IReadOnlyDictionary<string, string> Fields { get; } = fields ?? new Dictionary<string, string>();
}
