namespace Meta.ComputeAccess;

/// <summary>A business rule refused the request; the message is written for the person who made it.</summary>
public sealed class DomainException(string message) : Exception(message)
{
    public DomainException()
        : this("The request was refused.")
    {
    }

    public DomainException(string message, Exception innerException)
        : this(message + " " + innerException.Message)
    {
    }
}
