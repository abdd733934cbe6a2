package ecs

// Fields are the ECS values FireLens adds to each record when
// enable-ecs-log-metadata is on: T is string for values kept (FireLens),
// []byte for views into Fluent Bit's chunk, valid only during the flush
// (View).
type Fields[T ~string | ~[]byte] struct {
	Cluster, TaskARN, TaskDefinition, ContainerID, ContainerName T
}

// FireLens are a container's fields as kept.
type FireLens = Fields[string]

// View are one record's fields, slices of Fluent Bit's chunk.
type View = Fields[[]byte]

// Field is f's field for the record key k (the one place FireLens' keys
// are spelled), nil when k is not one of them.
func (f *Fields[T]) Field(k []byte) *T {
	switch string(k) {
	case "ecs_cluster":
		return &f.Cluster
	case "ecs_task_arn":
		return &f.TaskARN
	case "ecs_task_definition":
		return &f.TaskDefinition
	case "container_id":
		return &f.ContainerID
	case "container_name":
		return &f.ContainerName
	}
	return nil
}

// Empty reports whether every field is empty.
func (f *Fields[T]) Empty() bool {
	return len(f.Cluster) == 0 && len(f.TaskARN) == 0 && len(f.TaskDefinition) == 0 &&
		len(f.ContainerID) == 0 && len(f.ContainerName) == 0
}

// IsKey reports whether k is one of the record keys FireLens adds.
func IsKey(k []byte) bool {
	var f View
	return f.Field(k) != nil
}

// Copy keeps a record's fields beyond the flush.
func Copy(v *View) FireLens {
	return FireLens{
		Cluster: string(v.Cluster), TaskARN: string(v.TaskARN), TaskDefinition: string(v.TaskDefinition),
		ContainerID: string(v.ContainerID), ContainerName: string(v.ContainerName),
	}
}
